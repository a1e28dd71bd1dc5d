//! Spec suite loader.
