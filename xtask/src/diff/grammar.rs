//! Seeded random payloads, saved groups, bandits and users for the differential fuzzer.
//!
//! The grammar aims at the places where a port can drift from the JavaScript SDK: every
//! condition operator (and its loose shapes), JavaScript coercions between strings, numbers,
//! booleans, arrays and objects, attribute paths, Unicode case mapping, number formatting,
//! version strings, prerequisites, saved groups v1/v2, hashing inputs, bucketing parameters,
//! sticky buckets and contextual bandits.

use serde_json::{Map, Value, json};

/// SplitMix64: small, fast, and the same stream for the same seed on every platform.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p` percent.
    pub(crate) fn pct(&mut self, p: u64) -> bool {
        self.next_u64() % 100 < p
    }

    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Strings chosen for case mapping (final sigma, dotted I, titlecase digraphs, sharp s,
/// ligatures, Kelvin/Angstrom signs, Deseret), numeric text, versions and JS `String()` forms.
const STRINGS: &[&str] = &[
    "",
    "US",
    "us",
    "Us",
    "ca",
    "CA",
    "abc",
    "ABC",
    "ΣΊΣΥΦΟΣ",
    "σίσυφος",
    "σίσυφοσ",
    "ΑΣ",
    "ας",
    "Σ",
    "σ",
    "ΑΣ.",
    "ΑΣΑ",
    "AΣb",
    "ΣΑ",
    "İ",
    "i̇",
    "İstanbul",
    "i̇stanbul",
    "istanbul",
    "I",
    "ı",
    "ǅ",
    "ǆ",
    "Ǆ",
    "ǅungla",
    "ǆungla",
    "ẞ",
    "ß",
    "ss",
    "ﬁ",
    "FI",
    "fi",
    "K",
    "k",
    "Å",
    "å",
    "ΐ",
    "𐐀",
    "𐐨",
    "😀",
    "a😀",
    "\u{ff61}",
    "123",
    "18",
    " 12 ",
    "1e3",
    "0x10",
    "0b11",
    "-0",
    "1.0",
    "Infinity",
    "NaN",
    "12abc",
    "true",
    "false",
    "null",
    "[object Object]",
    "1,2",
    "1.2.3",
    "1.10.0",
    "v1.2.3-rc.1+build",
    "1.2.3-beta",
    "2.0",
    "10",
    "9",
    "1e21",
    "9007199254740993",
    "x/y",
    "a.b",
    "ÉCOLE",
    "école",
];

/// Numbers as JSON text: `-0`, exponents, 2^53+1, fractions.
const NUMBERS: &[&str] = &[
    "0",
    "-0.0",
    "1",
    "1.0",
    "1.5",
    "-1",
    "2",
    "10",
    "18",
    "0.1",
    "0.5",
    "1e21",
    "1e-7",
    "123456789012345680000",
    "9007199254740993",
    "4294967295",
    "12",
    "100",
    "3.14",
    "1e300",
];

const ATTRS: &[&str] = &[
    "id", "deviceId", "country", "age", "tags", "version", "name", "a", "score", "flag", "0",
    "list", "obj", "empty",
];

const PATHS: &[&str] = &[
    "id",
    "deviceId",
    "country",
    "age",
    "tags",
    "version",
    "name",
    "a",
    "a.b",
    "a.0",
    "a.b.c",
    "tags.0",
    "tags.1",
    "tags.length",
    "tags.01",
    "list.length",
    "list.0.x",
    "name.length",
    "obj.1",
    "obj.b",
    "score",
    "flag",
    "0",
    "missing",
    "empty",
    "",
    "a.",
];

const REGEXES: &[&str] = &[
    "^U", "s$", "[a-z]+", "^[A-Z]+$", "ΣΊΣ", "σ", "ς", "İ", "i", "ß", "ss", "\\d+", "^\\d+$", "^$",
    "a.c", "(a|b)", "\\w", "\\W", "[^a]", "\\bfoo", "x/y", "ǅ", "ǆ", "\\u00e9", "K", "k", ".",
    "^.$", "^..$", "[😀]", "\\s", "1\\.2", "^1,2$", "nul+", "tru?e", "[", "a{2,}", "é", "É", "ﬁ",
    "[à-ÿ]", "\\x41", "^\\S+$", "[\\w-]+",
];

const OPS: &[&str] = &[
    "$eq",
    "$ne",
    "$lt",
    "$lte",
    "$gt",
    "$gte",
    "$veq",
    "$vne",
    "$vgt",
    "$vgte",
    "$vlt",
    "$vlte",
    "$exists",
    "$in",
    "$nin",
    "$ini",
    "$nini",
    "$all",
    "$alli",
    "$elemMatch",
    "$size",
    "$not",
    "$regex",
    "$regexi",
    "$type",
    "$inGroup",
    "$notInGroup",
    "$foo",
];

const TYPES: &[&str] = &[
    "string",
    "number",
    "boolean",
    "array",
    "object",
    "null",
    "undefined",
    "unknown",
];

const GROUPS: &[&str] = &["g0", "g1", "g2", "g3", "g4", "gx"];

pub(crate) fn num(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The generator: one payload and its users per batch.
#[derive(Debug)]
pub(crate) struct Gen {
    pub(crate) rng: Rng,
    n_features: usize,
    /// `$savedGroup` references pick from `GROUPS[first_group..]`: a condition group only
    /// references groups after it, so saved groups never loop (gb-core disables looping groups
    /// on purpose, a documented fail-closed difference from the JS SDK).
    first_group: usize,
}

impl Gen {
    pub(crate) fn new(seed: u64, n_features: usize) -> Self {
        Gen {
            rng: Rng::new(seed),
            n_features,
            first_group: 0,
        }
    }

    fn string(&mut self) -> Value {
        let r = &mut self.rng;
        if r.pct(8) {
            // Mixed-case composites of the tricky strings.
            let a = *r.pick(STRINGS);
            let b = *r.pick(STRINGS);
            return Value::String(format!("{a}{b}"));
        }
        Value::String((*r.pick(STRINGS)).to_string())
    }

    fn number(&mut self) -> Value {
        num(self.rng.pick::<&str>(NUMBERS))
    }

    /// A scalar (or, at low depth, an array or object) attribute-like value.
    pub(crate) fn value(&mut self, depth: usize) -> Value {
        let k = self.rng.below(if depth > 2 { 8 } else { 11 });
        match k {
            0..=3 => self.string(),
            4..=5 => self.number(),
            6 => Value::Bool(self.rng.pct(50)),
            7 => Value::Null,
            8 => {
                let n = self.rng.below(4);
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            _ => self.object(depth),
        }
    }

    fn object(&mut self, depth: usize) -> Value {
        // Integer-like keys mixed with others: JS orders "0".."4294967294" first.
        const KEYS: &[&str] = &["b", "1", "a", "0", "x", "10", "2", "01", "-1", "4294967295"];
        let n = self.rng.below(4);
        let mut m = Map::new();
        for _ in 0..n {
            let k = *self.rng.pick(KEYS);
            let v = self.value(depth + 1);
            m.insert(k.to_string(), v);
        }
        Value::Object(m)
    }

    fn version(&mut self) -> Value {
        const V: &[&str] = &[
            "1.2.3",
            "1.10.0",
            "1.2.3-beta",
            "1.2.3-beta.2",
            "v1.2.3",
            "1.2.3+build",
            "2",
            "1.2",
            "",
            "1.0.0-rc.1",
            "01.2.3",
            "1.2.3.4",
            "1-2-3",
            "abc",
        ];
        match self.rng.below(6) {
            0 => self.number(),
            1 => self.value(2),
            _ => Value::String((*self.rng.pick(V)).to_string()),
        }
    }

    /// An attribute set.
    pub(crate) fn attributes(&mut self) -> Map<String, Value> {
        let mut m = Map::new();
        if !self.rng.pct(8) {
            let id = match self.rng.below(12) {
                0 => self.number(),
                1 => Value::Bool(true),
                2 => self.value(1),
                3 => Value::String("😀🎉 ünïcödé".into()),
                4 => Value::String("x".repeat(300)),
                5 => Value::String(String::new()),
                _ => Value::String(format!("user-{}", self.rng.below(100_000))),
            };
            m.insert("id".into(), id);
        }
        let n = self.rng.below(7);
        for _ in 0..n {
            let k = (*self.rng.pick(ATTRS)).to_string();
            let v = match k.as_str() {
                "version" => self.version(),
                "tags" | "list" => {
                    let n = self.rng.below(4);
                    Value::Array((0..n).map(|_| self.value(1)).collect())
                }
                "a" | "obj" => {
                    if self.rng.pct(70) {
                        let inner = self.value(1);
                        let mut o = self.object(1);
                        if let Value::Object(om) = &mut o {
                            om.insert("b".into(), inner);
                        }
                        o
                    } else {
                        self.value(1)
                    }
                }
                "deviceId" => Value::String(format!("dev-{}", self.rng.below(1000))),
                _ => self.value(0),
            };
            m.insert(k, v);
        }
        m
    }

    fn loose(&mut self) -> Value {
        match self.rng.below(8) {
            7 => Value::Null,
            0 => num("5"),
            1 => Value::Bool(self.rng.pct(50)),
            2 => Value::String("ab".into()),
            3 => json!([]),
            4 => json!({}),
            5 => json!([{"country": "US"}, 1]),
            _ => num("0"),
        }
    }

    /// A condition document (or, rarely, a loose non-object shape).
    pub(crate) fn condition(&mut self, depth: usize) -> Value {
        if depth > 0 && self.rng.pct(3) {
            return self.loose();
        }
        let n = 1 + self.rng.below(if depth > 2 { 1 } else { 3 });
        let mut m = Map::new();
        for _ in 0..n {
            let k = self.rng.below(20);
            match k {
                0 | 1 if depth < 3 => {
                    let op = *self.rng.pick(&["$or", "$nor", "$and"]);
                    let v = if self.rng.pct(10) {
                        self.loose()
                    } else {
                        let c = self.rng.below(4);
                        Value::Array((0..c).map(|_| self.condition(depth + 1)).collect())
                    };
                    m.insert(op.into(), v);
                }
                2 if depth < 3 => {
                    let v = self.condition(depth + 1);
                    m.insert("$not".into(), v);
                }
                3 => {
                    let v = if self.rng.pct(85) {
                        let mut r = Map::new();
                        let ids = &GROUPS[self.first_group..];
                        r.insert("id".into(), Value::String((*self.rng.pick(ids)).into()));
                        if self.rng.pct(30) {
                            r.insert(
                                "attributeKey".into(),
                                Value::String((*self.rng.pick(PATHS)).into()),
                            );
                        }
                        Value::Object(r)
                    } else {
                        self.loose()
                    };
                    m.insert("$savedGroup".into(), v);
                }
                _ => {
                    let p = (*self.rng.pick(PATHS)).to_string();
                    let v = self.cond_value(depth + 1);
                    m.insert(p, v);
                }
            }
        }
        Value::Object(m)
    }

    /// What a path is tested against (`evalConditionValue`).
    pub(crate) fn cond_value(&mut self, depth: usize) -> Value {
        if self.rng.pct(30) || depth > 4 {
            return self.value(depth.max(1));
        }
        let n = 1 + usize::from(self.rng.pct(25));
        let mut m = Map::new();
        for _ in 0..n {
            let op = *self.rng.pick(OPS);
            let arg = self.op_arg(op, depth);
            m.insert(op.into(), arg);
        }
        if self.rng.pct(3) {
            // Not an operator object: compared by JSON text.
            m.insert("x".into(), num("1"));
        }
        Value::Object(m)
    }

    fn list(&mut self, depth: usize) -> Value {
        let n = self.rng.below(5);
        Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
    }

    fn op_arg(&mut self, op: &str, depth: usize) -> Value {
        let loose = self.rng.pct(6);
        match op {
            "$veq" | "$vne" | "$vgt" | "$vgte" | "$vlt" | "$vlte" => self.version(),
            "$exists" => match self.rng.below(6) {
                0 => num("0"),
                1 => Value::String("x".into()),
                2 => Value::String(String::new()),
                _ => Value::Bool(self.rng.pct(50)),
            },
            "$in" | "$nin" | "$ini" | "$nini" => {
                if loose {
                    self.value(2)
                } else {
                    self.list(depth)
                }
            }
            "$all" | "$alli" => {
                if loose {
                    self.value(2)
                } else {
                    let n = self.rng.below(3);
                    Value::Array((0..n).map(|_| self.cond_value(depth + 1)).collect())
                }
            }
            "$elemMatch" => {
                if loose {
                    self.loose()
                } else if self.rng.pct(50) {
                    self.cond_value(depth + 1)
                } else {
                    self.condition(depth + 1)
                }
            }
            "$size" | "$not" => self.cond_value(depth + 1),
            "$regex" | "$regexi" => {
                if loose {
                    // Not a string: JS throws inside a try and answers false, unless an
                    // earlier pattern with the same `String(arg)` sits in its module-level
                    // regex cache (a history-dependent JS quirk kept out of the grammar: no
                    // pattern above is the `String()` of these).
                    num(self
                        .rng
                        .pick::<&str>(&["5", "1.5", "[]", "{}", "null", "false", "[1,2]"]))
                } else {
                    Value::String((*self.rng.pick(REGEXES)).into())
                }
            }
            "$type" => {
                if loose {
                    self.value(2)
                } else {
                    Value::String((*self.rng.pick(TYPES)).into())
                }
            }
            "$inGroup" | "$notInGroup" => {
                if loose {
                    self.value(2)
                } else {
                    Value::String((*self.rng.pick(GROUPS)).into())
                }
            }
            _ => self.value(depth),
        }
    }

    fn saved_groups(&mut self) -> Value {
        let mut m = Map::new();
        for (i, g) in GROUPS.iter().enumerate().take(5) {
            let v = match self.rng.below(6) {
                0 | 1 => self.list(1),
                2 | 3 => {
                    let mut o = Map::new();
                    o.insert("type".into(), "list".into());
                    if self.rng.pct(85) {
                        o.insert(
                            "attributeKey".into(),
                            Value::String((*self.rng.pick(PATHS)).into()),
                        );
                    }
                    let l = self.list(1);
                    o.insert("values".into(), l);
                    Value::Object(o)
                }
                4 => {
                    self.first_group = i + 1;
                    let c = self.condition(1);
                    self.first_group = 0;
                    json!({"type": "condition", "condition": c})
                }
                _ => {
                    if self.rng.pct(50) {
                        json!({"type": "other"})
                    } else {
                        self.value(2)
                    }
                }
            };
            m.insert((*g).into(), v);
        }
        Value::Object(m)
    }

    fn weights(&mut self, n: usize) -> Value {
        match self.rng.below(6) {
            0 => Value::Array((0..n).map(|_| json!(1.0 / n as f64)).collect()),
            1 => Value::Array(
                (0..n)
                    .map(|i| if i == 0 { json!(1.0) } else { json!(0.0) })
                    .collect(),
            ),
            2 => {
                let mut w: Vec<f64> = (0..n).map(|_| self.rng.below(10) as f64 + 1.0).collect();
                let s: f64 = w.iter().sum();
                w.iter_mut()
                    .for_each(|x| *x = (*x / s * 1000.0).round() / 1000.0);
                json!(w)
            }
            3 => json!([0.5, 0.5]),
            4 => json!([0.3, 0.3, 0.39]),
            _ => Value::Array((0..n).map(|_| json!(0.98 / n as f64)).collect()),
        }
    }

    fn coverage(&mut self) -> Value {
        num(self.rng.pick::<&str>(&[
            "0", "1", "0.5", "0.3", "0.9999", "-0.1", "1.2", "0.05", "0.999",
        ]))
    }

    fn hash_version(&mut self) -> Value {
        num(self.rng.pick::<&str>(&["1", "2", "2", "3"]))
    }

    fn range(&mut self) -> Value {
        let a = self.rng.below(10) as f64 / 10.0;
        let b = a + self.rng.below(6) as f64 / 10.0;
        json!([a, b.min(1.0)])
    }

    fn hash_attribute(&mut self) -> Value {
        Value::String(
            (*self.rng.pick(&[
                "id", "id", "deviceId", "country", "age", "tags", "a", "missing",
            ]))
            .into(),
        )
    }

    fn filters(&mut self) -> Value {
        let n = 1 + self.rng.below(2);
        Value::Array(
            (0..n)
                .map(|_| {
                    let mut f = Map::new();
                    f.insert(
                        "seed".into(),
                        Value::String((*self.rng.pick(&["s1", "s2", "😀"])).into()),
                    );
                    let k = 1 + self.rng.below(2);
                    f.insert(
                        "ranges".into(),
                        Value::Array((0..k).map(|_| self.range()).collect()),
                    );
                    if self.rng.pct(50) {
                        f.insert("attribute".into(), self.hash_attribute());
                    }
                    if self.rng.pct(50) {
                        f.insert("hashVersion".into(), self.hash_version());
                    }
                    Value::Object(f)
                })
                .collect(),
        )
    }

    fn parents(&mut self) -> Value {
        let n = 1 + self.rng.below(2);
        Value::Array(
            (0..n)
                .map(|_| {
                    let id = format!("f{}", self.rng.below(self.n_features + 1));
                    let mut p = Map::new();
                    p.insert("id".into(), Value::String(id));
                    let cv = if self.rng.pct(50) {
                        json!({"$exists": true})
                    } else {
                        self.cond_value(1)
                    };
                    p.insert("condition".into(), json!({ "value": cv }));
                    if self.rng.pct(50) {
                        p.insert("gate".into(), Value::Bool(true));
                    }
                    Value::Object(p)
                })
                .collect(),
        )
    }

    fn rule(&mut self, fkey: &str, ri: usize) -> Value {
        let mut r = Map::new();
        if self.rng.pct(50) {
            r.insert("id".into(), Value::String(format!("{fkey}-r{ri}")));
        }
        if self.rng.pct(55) {
            let c = if self.rng.pct(4) {
                self.loose()
            } else {
                self.condition(0)
            };
            r.insert("condition".into(), c);
        }
        if self.rng.pct(12) {
            r.insert("parentConditions".into(), self.parents());
        }
        if self.rng.pct(12) {
            r.insert("filters".into(), self.filters());
        }
        if self.rng.pct(20) {
            r.insert("hashAttribute".into(), self.hash_attribute());
        }
        if self.rng.pct(20) {
            r.insert("fallbackAttribute".into(), "deviceId".into());
        }
        if self.rng.pct(25) {
            r.insert("hashVersion".into(), self.hash_version());
        }
        if self.rng.pct(20) {
            let s = self.string();
            r.insert("seed".into(), s);
        }
        if self.rng.pct(8) {
            r.insert("disableStickyBucketing".into(), Value::Bool(true));
        }
        if self.rng.pct(40) {
            // A force rule, maybe a rollout.
            let v = self.value(1);
            r.insert("force".into(), v);
            if self.rng.pct(30) {
                r.insert("coverage".into(), self.coverage());
            }
            if self.rng.pct(15) {
                r.insert("range".into(), self.range());
            }
            return Value::Object(r);
        }
        if self.rng.pct(3) {
            return Value::Object(r);
        }
        let n = if self.rng.pct(5) {
            self.rng.below(2)
        } else {
            2 + self.rng.below(3)
        };
        let vars: Vec<Value> = (0..n).map(|_| self.value(1)).collect();
        let bandit = self.rng.pct(10);
        if bandit {
            r.insert(
                "contextualBanditRef".into(),
                Value::String(format!("cb{}", self.rng.below(3))),
            );
            r.insert("contextualVariations".into(), Value::Array(vars));
        } else {
            r.insert("variations".into(), Value::Array(vars));
        }
        let keys = ["e1", "e2", "e3", "f0"];
        if self.rng.pct(70) {
            r.insert("key".into(), Value::String((*self.rng.pick(&keys)).into()));
        }
        if self.rng.pct(35) {
            r.insert("weights".into(), self.weights(n));
        }
        if self.rng.pct(30) {
            r.insert("coverage".into(), self.coverage());
        }
        if self.rng.pct(15) {
            let ns = self.rng.pick(&["ns1", "ns2"]).to_string();
            let a = self.rng.below(10) as f64 / 10.0;
            r.insert("namespace".into(), json!([ns, a, (a + 0.5).min(1.0)]));
        }
        if self.rng.pct(10) {
            r.insert(
                "ranges".into(),
                Value::Array((0..n).map(|_| self.range()).collect()),
            );
        }
        if self.rng.pct(50) {
            let meta: Vec<Value> = (0..n)
                .map(|i| {
                    let mut m = Map::new();
                    m.insert("key".into(), Value::String(format!("v{i}")));
                    if self.rng.pct(50) {
                        m.insert("name".into(), Value::String(format!("Var {i}")));
                    }
                    if self.rng.pct(10) {
                        m.insert("passthrough".into(), Value::Bool(true));
                    }
                    Value::Object(m)
                })
                .collect();
            r.insert("meta".into(), Value::Array(meta));
        }
        if self.rng.pct(20) {
            r.insert(
                "bucketVersion".into(),
                num(self.rng.pick::<&str>(&["0", "1", "2"])),
            );
        }
        if self.rng.pct(15) {
            r.insert(
                "minBucketVersion".into(),
                num(self.rng.pick::<&str>(&["0", "1", "2"])),
            );
        }
        if self.rng.pct(15) {
            r.insert("name".into(), "Experiment".into());
            r.insert("phase".into(), "1".into());
        }
        Value::Object(r)
    }

    fn bandits(&mut self) -> Value {
        let mut m = Map::new();
        for i in 0..2 {
            let n = self.rng.below(3);
            let contexts: Vec<Value> = (0..n)
                .map(|leaf| {
                    let nw = 2 + self.rng.below(2);
                    json!({
                        "leafId": leaf,
                        "condition": self.condition(1),
                        "weights": self.weights(nw),
                    })
                })
                .collect();
            let mut b = Map::new();
            b.insert("contexts".into(), Value::Array(contexts));
            if self.rng.pct(70) {
                b.insert("banditVersion".into(), json!(self.rng.below(5)));
            }
            m.insert(format!("cb{i}"), Value::Object(b));
        }
        Value::Object(m)
    }

    /// A payload and the feature keys to evaluate (including one that does not exist).
    pub(crate) fn payload(&mut self) -> (Value, Vec<String>) {
        let mut features = Map::new();
        for i in 0..self.n_features {
            let key = format!("f{i}");
            if self.rng.pct(1) {
                // A definition that is not an object (JS: falsy is unknown, truthy is null).
                features.insert(key, self.loose());
                continue;
            }
            let mut f = Map::new();
            if self.rng.pct(90) {
                f.insert("defaultValue".into(), self.value(1));
            }
            let n = self.rng.below(4);
            let rules: Vec<Value> = (0..n).map(|ri| self.rule(&key, ri)).collect();
            f.insert("rules".into(), Value::Array(rules));
            features.insert(key, Value::Object(f));
        }
        let mut keys: Vec<String> = features.keys().cloned().collect();
        keys.push(format!("f{}", self.n_features));
        let mut p = Map::new();
        p.insert("features".into(), Value::Object(features));
        p.insert("savedGroups".into(), self.saved_groups());
        p.insert("contextualBandits".into(), self.bandits());
        (Value::Object(p), keys)
    }

    /// A user (attributes plus URL, forced variations, QA mode and sticky documents).
    /// A URL whose query string is built from pieces that `parseInt`, `split` and the
    /// reference's fragment regex (`/#.*/`, where `.` stops at a line terminator) read
    /// differently from a naive parser: JS whitespace, leading zeros, hex, signs, fragments.
    fn query_url(&mut self) -> String {
        const PIECES: &[&str] = &[
            "?",
            "#",
            "&",
            "=",
            "e1",
            "e2",
            "f0",
            "0",
            "1",
            "2",
            "-",
            "+",
            "0x",
            "x",
            " ",
            "\t",
            "\n",
            "\r",
            "\u{a0}",
            "\u{feff}",
            "\u{2028}",
            "\u{3000}",
            "\u{200b}",
            "é",
            "00000000000000000001",
            "?e1=",
            "&e2=",
            "&f0=",
            "#x\n",
            "1.5",
            "1e0",
        ];
        let mut url = String::from("https://x.com/p");
        for _ in 0..self.rng.below(14) {
            url.push_str(self.rng.pick::<&str>(PIECES));
        }
        url
    }

    pub(crate) fn user(&mut self, sticky: bool) -> Value {
        let attrs = self.attributes();
        let mut u = Map::new();
        if sticky {
            let mut docs = Map::new();
            for a in ["id", "deviceId"] {
                if let Some(Value::String(v)) = attrs.get(a)
                    && self.rng.pct(60)
                {
                    let mut asg = Map::new();
                    for e in ["e1", "e2", "e3", "f0"] {
                        if self.rng.pct(40) {
                            let bv = self.rng.below(3);
                            let vk = format!("v{}", self.rng.below(4));
                            asg.insert(format!("{e}__{bv}"), Value::String(vk));
                        }
                    }
                    docs.insert(
                        format!("{a}||{v}"),
                        json!({"attributeName": a, "attributeValue": v, "assignments": asg}),
                    );
                }
            }
            u.insert("stickyDocs".into(), Value::Object(docs));
        }
        u.insert("attributes".into(), Value::Object(attrs));
        if self.rng.pct(5) {
            let e = self.rng.pick(&["e1", "e2", "f0"]).to_string();
            let v = self.rng.below(4);
            u.insert(
                "url".into(),
                Value::String(format!("https://x.com/p?{e}={v}&z=1")),
            );
        } else if self.rng.pct(5) {
            u.insert("url".into(), Value::String(self.query_url()));
        }
        if self.rng.pct(4) {
            let e = self.rng.pick(&["e1", "e2", "f0"]).to_string();
            u.insert("forcedVariations".into(), json!({ e: self.rng.below(3) }));
        }
        if self.rng.pct(3) {
            let f = format!("f{}", self.rng.below(self.n_features));
            u.insert("forcedFeatures".into(), json!({ f: self.value(1) }));
        }
        if self.rng.pct(3) {
            u.insert("qaMode".into(), Value::Bool(true));
        }
        if self.rng.pct(2) {
            u.insert("enabled".into(), Value::Bool(false));
        }
        Value::Object(u)
    }
}
