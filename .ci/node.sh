#!/usr/bin/env bash
# Node.js and npm for the differential fuzzer (`cargo xtask diff`), unless they are on PATH.
# `npm ci` itself runs inside `cargo xtask diff` (xtask/js/package-lock.json pins the JS SDK).
set -euo pipefail
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    echo "node.sh: node $(node --version) and npm $(npm --version) already installed"
    exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "node.sh: not root and no sudo: cannot install nodejs" >&2
        exit 1
    fi
fi
echo "node.sh: installing nodejs and npm with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1
