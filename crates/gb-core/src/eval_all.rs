//! Every feature of a payload for one user, in one pass.

use alloc::vec::Vec;

use crate::context::User;
use crate::evaluate::Ev;
use crate::feature::FeatureSet;
use crate::result::FeatureResult;
use crate::sticky::StickyBucketDocs;
use crate::trace::Observer;

impl FeatureSet {
    /// Evaluates every feature for `user`, in payload order: the same results as
    /// [`eval_feature`](Self::eval_feature) on each key, computed in one pass that shares the
    /// per-user work (a prerequisite is evaluated once for all the features it gates). Each
    /// feature gets its own work budget ([`MAX_EVALUATION_WORK`](crate::limits::MAX_EVALUATION_WORK)).
    pub fn eval_all<'a>(&'a self, user: &User<'a>) -> Vec<(&'a str, FeatureResult<'a>)> {
        let mut out = Vec::with_capacity(self.len());
        self.eval_all_with(user, None, &mut (), |k, r| out.push((k, r)));
        out
    }

    /// Where feature `key` stands in payload order (the order of [`keys`](Self::keys) and
    /// of [`eval_all`](Self::eval_all)'s results).
    pub fn position(&self, key: &str) -> Option<usize> {
        self.features.position(key)
    }

    /// [`eval_all`](Self::eval_all) with sticky bucketing and an observer; `each` receives
    /// every feature's key and result, in payload order.
    pub fn eval_all_with<'a, O: Observer<'a>>(
        &'a self,
        user: &User<'a>,
        sticky: Option<&mut StickyBucketDocs>,
        observer: &mut O,
        mut each: impl FnMut(&'a str, FeatureResult<'a>),
    ) {
        let mut ev = Ev::new(self, user, sticky, observer);
        for feature in self.features.iter() {
            ev.next_feature();
            each(&feature.key, ev.eval_known(feature));
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use crate::{FeatureSet, User};
    use serde_json::json;

    #[test]
    fn one_pass_equals_each_feature_alone() {
        let fs = FeatureSet::from_value(&json!({"features": {
            "parent": {"defaultValue": true},
            "child": {"defaultValue": 1, "rules": [
                {"parentConditions": [{"id": "parent", "condition": {"value": true}}], "force": 2}
            ]},
            "exp": {"defaultValue": "a", "rules": [{"key": "e", "variations": ["a", "b"]}]},
            "cycle-a": {"defaultValue": 0, "rules": [
                {"parentConditions": [{"id": "cycle-b", "condition": {"value": 0}}], "force": 1}
            ]},
            "cycle-b": {"defaultValue": 0, "rules": [
                {"parentConditions": [{"id": "cycle-a", "condition": {"value": 0}}], "force": 1}
            ]}
        }}));
        for id in 0..20u32 {
            let attrs = json!({"id": id.to_string()});
            let Some(attrs) = attrs.as_object() else {
                continue;
            };
            let user = User::new(attrs);
            let all = fs.eval_all(&user);
            assert_eq!(all.len(), fs.len());
            for (key, r) in &all {
                assert_eq!(r.to_json(), fs.eval_feature(key, &user).to_json(), "{key}");
            }
        }
    }
}
