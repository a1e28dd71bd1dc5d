//! `gb explain`: a readable trace of one feature's evaluation, built from gb-core's trace hook.

use core::fmt::Write as _;
use std::io::Write;

use gb_core::bucket::{Range, choose_variation};
use gb_core::trace::{HashStep, RuleKind};
use gb_core::warning::WarningKind;
use gb_core::{FeatureResult, Observer, Trace, User, Warning};
use serde_json::Value;

use crate::eval::experiment_note;
use crate::input::{self, CliError, short};
use crate::{ExplainArgs, Outcome};

/// Runs `gb explain`.
pub(crate) fn run(a: &ExplainArgs, out: &mut impl Write) -> Outcome {
    let loaded = input::load_payload(&a.ctx.payload, a.ctx.decryption_key.as_deref())?;
    for w in loaded.set.warnings() {
        eprintln!("gb: warning: {w}");
    }
    if !loaded.set.contains(&a.feature) && loaded.keys.contains(&a.feature) {
        let msg = format!(
            "feature {:?} is in the payload but its definition is unusable (see the warning)",
            a.feature
        );
        return Err(CliError(msg).into());
    }
    if !loaded.set.contains(&a.feature) {
        let msg = format!(
            "feature {:?} is not in the payload ({} features; `gb eval --payload {}` lists them)",
            a.feature,
            loaded.keys.len(),
            a.ctx.payload.display()
        );
        return Err(CliError(msg).into());
    }
    let attrs = input::attributes(a.ctx.attributes.as_deref())?;
    let mut sticky = input::sticky_docs(a.ctx.sticky_docs.as_deref())?;
    let user = User::new(&attrs).with_url(a.ctx.url.as_deref().unwrap_or(""));
    let mut trace = Explainer::new(&loaded.json, loaded.set.warnings());
    let result = loaded
        .set
        .eval_feature_with(&a.feature, &user, sticky.as_mut(), &mut trace);
    out.write_all(trace.text.as_bytes())?;
    write_summary(out, &result)?;
    match &sticky {
        None => writeln!(
            out,
            "sticky bucketing: off (pass --sticky-docs FILE to use it)"
        )?,
        Some(docs) if docs.has_changes() => {
            writeln!(out, "sticky buckets to save:")?;
            for doc in sticky.iter_mut().flat_map(|d| d.take_changed()) {
                let line = serde_json::to_string(&doc).unwrap_or_default();
                writeln!(out, "  {line}")?;
            }
        }
        Some(_) => writeln!(out, "sticky buckets: nothing to save")?,
    }
    Ok(())
}

fn write_summary(out: &mut impl Write, r: &FeatureResult<'_>) -> std::io::Result<()> {
    writeln!(out)?;
    write!(
        out,
        "result: {} (source {}",
        short(r.value, 200),
        r.source.as_str()
    )?;
    if !r.rule_id.is_empty() {
        write!(out, ", rule {}", r.rule_id)?;
    }
    writeln!(out, ")")?;
    if let Some(er) = &r.experiment_result {
        writeln!(
            out,
            "  {}, hashed on {} = {}",
            experiment_note(r),
            er.hash_attribute,
            short(er.hash_value, 60)
        )?;
    }
    Ok(())
}

/// One feature being evaluated (prerequisites nest).
#[derive(Debug)]
struct Frame<'p> {
    /// The indentation of the feature's header.
    indent: usize,
    /// The feature's rules in the payload JSON.
    rules: &'p [Value],
    /// The rule being evaluated, in the payload JSON.
    rule: Option<&'p Value>,
    /// Whether a rule is open (its lines are indented one more).
    in_rule: bool,
}

/// Turns trace events into indented lines.
#[derive(Debug)]
struct Explainer<'p> {
    payload: &'p Value,
    /// gb-core's compile warnings (rules it disabled are listed under their feature).
    warnings: &'p [Warning],
    stack: Vec<Frame<'p>>,
    text: String,
}

impl<'p> Explainer<'p> {
    fn new(payload: &'p Value, warnings: &'p [Warning]) -> Self {
        Explainer {
            payload,
            warnings,
            stack: Vec::new(),
            text: String::new(),
        }
    }

    fn line(&mut self, indent: usize, text: &str) {
        let _ = writeln!(self.text, "{:width$}{text}", "", width = indent * 2);
    }

    /// The indentation for a line inside the current rule (or feature).
    fn inner(&self) -> usize {
        self.stack
            .last()
            .map_or(0, |f| f.indent + 1 + usize::from(f.in_rule))
    }

    /// A field of the current rule's JSON (its condition, namespace, ...).
    fn rule_field(&self, name: &str) -> Option<&'p Value> {
        self.stack.last()?.rule?.get(name)
    }

    fn feature(&mut self, key: &str) {
        let indent = self.inner();
        let def = self.payload.get("features").and_then(|f| f.get(key));
        let rules = def
            .and_then(|d| d.get("rules"))
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let mut head = format!("feature {key:?}");
        if let Some(d) = def.and_then(|d| d.get("defaultValue")) {
            let plural = if rules.len() == 1 { "" } else { "s" };
            let _ = write!(
                head,
                " (default {}, {} rule{plural})",
                short(d, 60),
                rules.len()
            );
        }
        self.line(indent, &head);
        let warnings = self.warnings;
        for w in warnings {
            if let (WarningKind::RuleDisabled, Some(i)) = (w.kind, w.rule)
                && w.feature.as_deref() == Some(key)
            {
                self.line(indent + 1, &format!("rule {i}: disabled: {}", w.message()));
            }
        }
        self.stack.push(Frame {
            indent,
            rules,
            rule: None,
            in_rule: false,
        });
    }

    fn rule_start(&mut self, index: usize, id: &str, kind: RuleKind) {
        let indent = self.inner();
        if let Some(f) = self.stack.last_mut() {
            // The traced index is the rule's index in the payload.
            f.rule = f.rules.get(index);
            f.in_rule = true;
        }
        let shown_id = if id.is_empty() {
            String::new()
        } else {
            format!(" {id}")
        };
        let kind = match kind {
            RuleKind::Skip => "no force value or variations",
            k => k.as_str(),
        };
        self.line(indent, &format!("rule {index}{shown_id} ({kind})"));
    }

    fn rule_end(&mut self, outcome: &str) {
        let indent = self.inner();
        self.line(indent, &format!("-> {outcome}"));
        if let Some(f) = self.stack.last_mut() {
            f.in_rule = false;
            f.rule = None;
        }
    }

    fn condition(&mut self, passed: bool) {
        let cond = self
            .rule_field("condition")
            .map(|c| format!(" {}", short(c, 100)))
            .unwrap_or_default();
        self.line(
            self.inner(),
            &format!("condition{cond}: {}", verdict(passed)),
        );
    }

    fn prerequisite(&mut self, id: &str, value: &Value, gate: bool, passed: bool) {
        let cond = self
            .rule_field("parentConditions")
            .and_then(Value::as_array)
            .and_then(|pcs| pcs.iter().find(|pc| pc.get("id") == Some(&Value::from(id))))
            .and_then(|pc| pc.get("condition"))
            .map(|c| format!(", needs {}", short(c, 80)))
            .unwrap_or_default();
        let gate = if gate { " (gate)" } else { "" };
        let text = format!(
            "prerequisite {id:?}{gate} = {}{cond}: {}",
            short(value, 60),
            verdict(passed)
        );
        self.line(self.inner(), &text);
    }

    #[allow(clippy::too_many_arguments, reason = "the fields of one trace event")]
    fn hash(
        &mut self,
        step: HashStep,
        attribute: &str,
        value: Option<&Value>,
        hash: Option<f64>,
        ranges: &[Range],
        coverage: Option<f64>,
        passed: bool,
    ) {
        let mut s = match step {
            HashStep::Namespace => {
                let ns = self
                    .rule_field("namespace")
                    .and_then(|n| n.get(0))
                    .and_then(Value::as_str)
                    .map(|n| format!(" {n:?}"))
                    .unwrap_or_default();
                format!("namespace{ns}: ")
            }
            HashStep::Experiment => "bucket: ".to_owned(),
            other => format!("{}: ", other.as_str()),
        };
        let Some(value) = value else {
            let _ = write!(
                s,
                "no value for attribute {attribute:?}: {}",
                verdict(passed)
            );
            return self.line(self.inner(), &s);
        };
        let _ = write!(s, "{attribute} = {}", short(value, 60));
        if let Some(h) = hash {
            let _ = write!(s, ", hash {h}");
        }
        if let Some(c) = coverage {
            let _ = write!(s, ", coverage {c}");
        }
        match (step, hash) {
            (HashStep::Experiment, Some(h)) => match choose_variation(h, ranges) {
                Some(v) => {
                    let (a, b) = ranges[v];
                    let _ = write!(s, " -> variation {v} (range [{a}, {b}))");
                }
                None => {
                    let _ = write!(s, " -> in no variation's range {}", show_ranges(ranges));
                }
            },
            _ => {
                if !ranges.is_empty() {
                    let _ = write!(s, ", ranges {}", show_ranges(ranges));
                }
                let _ = write!(s, ": {}", verdict(passed));
            }
        }
        self.line(self.inner(), &s);
    }

    fn sticky(&mut self, experiment: &str, variation: Option<usize>, blocked: bool) {
        let s = match (blocked, variation) {
            (true, _) => format!(
                "sticky bucket for {experiment:?}: blocked (a stored bucket version is below minBucketVersion)"
            ),
            (false, Some(v)) => format!("sticky bucket for {experiment:?}: variation {v} stored"),
            (false, None) => format!("sticky bucket for {experiment:?}: none stored"),
        };
        self.line(self.inner(), &s);
    }

    fn value(&mut self, value: &Value, source: &str, rule_id: &str) {
        let frame = self.stack.pop();
        let indent = frame.map_or(0, |f| f.indent + 1);
        let rule = if rule_id.is_empty() {
            String::new()
        } else {
            format!(", rule {rule_id}")
        };
        self.line(
            indent,
            &format!("=> {} ({source}{rule})", short(value, 100)),
        );
    }
}

fn verdict(passed: bool) -> &'static str {
    if passed { "passed" } else { "failed" }
}

fn show_ranges(ranges: &[Range]) -> String {
    let parts: Vec<String> = ranges.iter().map(|(a, b)| format!("[{a}, {b})")).collect();
    parts.join(" ")
}

impl Observer<'_> for Explainer<'_> {
    fn on_trace(&mut self, event: Trace<'_>) {
        match event {
            Trace::Feature { key } => self.feature(key),
            Trace::RuleStart {
                index, id, kind, ..
            } => self.rule_start(index, id, kind),
            Trace::Rule { outcome, .. } => self.rule_end(outcome.as_str()),
            Trace::Condition { passed } => self.condition(passed),
            Trace::Prerequisite {
                id,
                value,
                gate,
                passed,
            } => self.prerequisite(id, value, gate, passed),
            Trace::Hash {
                step,
                attribute,
                value,
                hash,
                ranges,
                coverage,
                passed,
            } => self.hash(step, attribute, value, hash, ranges, coverage, passed),
            Trace::StickyBucket {
                experiment,
                variation,
                blocked,
            } => self.sticky(experiment, variation, blocked),
            Trace::Experiment {
                key,
                outcome,
                bucket,
            } => {
                let b = bucket.map(|b| format!(" (hash {b})")).unwrap_or_default();
                let outcome = outcome.as_str();
                self.line(self.inner(), &format!("experiment {key:?}: {outcome}{b}"));
            }
            Trace::Value {
                value,
                source,
                rule_id,
                ..
            } => self.value(value, source.as_str(), rule_id),
            _ => {}
        }
    }
}
