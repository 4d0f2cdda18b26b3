//! The plan rules every resource obeys, enforced in one place (see the protocol reference, §3.4):
//! non-computed values stay as configured; a computed attribute left null in the configuration is
//! unknown on create (or takes its default), keeps its prior value on update unless the resource
//! declares it volatile and something changed; write-only values are planned null; the attributes
//! whose change replaces the object are listed for Terraform.

use super::path::AttributePath;
use super::refinement::Refinements;
use super::resource::PlanRules;
use super::schema::Block;
use super::timeouts::TIMEOUTS_BLOCK;
use super::value::Value;

/// The generic part of a plan: the planned state and the top-level attributes that force a
/// replacement.
#[derive(Debug, Clone, PartialEq)]
pub struct GenericPlan {
    /// The planned new state (null for destroy).
    pub planned: Value,
    /// Top-level attributes whose change replaces the object.
    pub requires_replace: Vec<String>,
}

/// Applies every generic rule to Terraform's proposed new state: [`propose`], then [`finish`].
/// The RPC layer runs the resource's own plan changes between the two.
pub fn plan(
    block: &Block,
    rules: &PlanRules,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> GenericPlan {
    let mut planned = propose(block, rules, prior, proposed, config);
    let requires_replace = finish(block, rules, &[], prior, config, &mut planned);
    GenericPlan {
        planned,
        requires_replace,
    }
}

/// The first phase: a computed attribute left null in the configuration takes its default, or is
/// unknown on create; on update it keeps the prior value Terraform proposed.
pub fn propose(
    block: &Block,
    rules: &PlanRules,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> Value {
    if proposed.is_null() {
        return Value::Null;
    }
    let creating = prior.is_null();
    let mut planned = proposed.clone();
    for attribute in &block.attributes {
        let name = attribute.name.as_str();
        if !attribute.computed || !config.attr(name).is_null() {
            continue;
        }
        let default = rules
            .defaults
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v);
        let value = match (default, creating) {
            (Some(default), _) => default.clone(),
            // Every object has an id once created: saying so keeps `x.id != null` known.
            (None, true) if name == "id" => Value::unknown_refined(Refinements {
                not_null: true,
                ..Refinements::default()
            }),
            (None, true) => Value::unknown(),
            (None, false) => continue,
        };
        planned.set_attr(name, value);
    }
    planned
}

/// The last phase, on the plan as the resource left it: volatile attributes become unknown only
/// when a value the user controls still changes (a resource may have normalised an equivalent
/// spelling back to the prior value), write-only values are nulled, and the attributes whose
/// change replaces the object (the rules' and the resource's `also_replace` for this plan) are
/// returned.
pub fn finish(
    block: &Block,
    rules: &PlanRules,
    also_replace: &[&str],
    prior: &Value,
    config: &Value,
    planned: &mut Value,
) -> Vec<String> {
    if planned.is_null() {
        return Vec::new();
    }
    let creating = prior.is_null();
    if !creating && configurable_change(block, prior, planned) {
        for name in rules.volatile_on_update {
            if config.attr(name).is_null() {
                planned.set_attr(*name, Value::unknown());
            }
        }
    }
    block.null_write_only(planned);
    if creating {
        return Vec::new();
    }
    let mut names: Vec<&str> = rules.requires_replace.to_vec();
    for name in also_replace {
        if !names.contains(name) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .filter(|name| {
            let next = planned.attr(name);
            next.is_unknown() || next != prior.attr(name)
        })
        .map(|name| name.to_string())
        .collect()
}

/// True when a value the user controls differs between prior and planned state. Computed-only
/// attributes are the provider's own, and the `timeouts` block only tells the provider how long
/// to wait: neither is a change of the remote object.
fn configurable_change(block: &Block, prior: &Value, planned: &Value) -> bool {
    let attribute_changed = block
        .attributes
        .iter()
        .filter(|a| a.required || a.optional)
        .filter(|a| !a.write_only)
        .any(|a| prior.attr(&a.name) != planned.attr(&a.name));
    let block_changed = block
        .block_types
        .iter()
        .filter(|b| b.type_name != TIMEOUTS_BLOCK)
        .any(|b| prior.attr(&b.type_name) != planned.attr(&b.type_name));
    attribute_changed || block_changed
}

/// The requires-replace list as attribute paths.
pub fn replace_paths(names: &[String]) -> Vec<AttributePath> {
    names.iter().map(AttributePath::attr).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tfplugin::schema::Attribute;
    use crate::tfplugin::timeouts;
    use crate::tfplugin::value::Type;
    use std::time::Duration;

    fn block() -> Block {
        Block::new("test")
            .attribute(Attribute::string("id").computed())
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::string("engine").optional().computed())
            .attribute(Attribute::string("plan").optional().computed())
            .attribute(Attribute::string("status").computed())
            .attribute(Attribute::string("secret_wo").optional().write_only())
            .block(timeouts::block(&[("create", Duration::from_secs(60))]))
    }

    fn rules() -> PlanRules {
        PlanRules {
            requires_replace: &["name", "engine"],
            volatile_on_update: &["status"],
            defaults: vec![("engine", Value::string("mongodb"))],
        }
    }

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().cloned())
    }

    fn prior() -> Value {
        object(&[
            ("id", Value::string("db-1")),
            ("name", Value::string("a")),
            ("engine", Value::string("mongodb")),
            ("plan", Value::string("small")),
            ("status", Value::string("READY")),
            ("secret_wo", Value::Null),
            ("timeouts", Value::Null),
        ])
    }

    #[test]
    fn plan_create_marks_computed_unknown_and_applies_defaults() {
        let config = object(&[
            ("name", Value::string("a")),
            ("secret_wo", Value::string("s3cret")),
        ]);
        let plan = plan(&block(), &rules(), &Value::Null, &config, &config);
        let id = plan.planned.attr("id");
        assert!(id.refinements().is_some_and(|r| r.not_null), "{id:?}");
        assert_eq!(plan.planned.attr("status"), &Value::unknown());
        assert_eq!(plan.planned.attr("plan"), &Value::unknown());
        assert_eq!(plan.planned.attr("engine"), &Value::string("mongodb"));
        assert_eq!(
            plan.planned.attr("secret_wo"),
            &Value::Null,
            "write-only is never planned"
        );
        assert!(
            plan.requires_replace.is_empty(),
            "nothing to replace on create"
        );
    }

    #[test]
    fn plan_without_change_keeps_every_prior_value() {
        let config = object(&[("name", Value::string("a"))]);
        // Terraform proposes prior values for computed attributes the config leaves null.
        let plan = plan(&block(), &rules(), &prior(), &prior(), &config);
        assert_eq!(plan.planned, prior());
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn plan_timeouts_change_is_not_an_object_change() {
        let config = object(&[
            ("name", Value::string("a")),
            ("timeouts", object(&[("create", Value::string("5m"))])),
        ]);
        let mut proposed = prior();
        proposed.set_attr("timeouts", config.attr("timeouts").clone());
        let plan = plan(&block(), &rules(), &prior(), &proposed, &config);
        assert_eq!(plan.planned.attr("status"), &Value::string("READY"));
    }

    #[test]
    fn plan_update_makes_volatile_unknown_and_keeps_stable_computed() {
        let config = object(&[("name", Value::string("a")), ("plan", Value::string("big"))]);
        let mut proposed = prior();
        proposed.set_attr("plan", Value::string("big"));
        let plan = plan(&block(), &rules(), &prior(), &proposed, &config);
        assert_eq!(plan.planned.attr("status"), &Value::unknown());
        assert_eq!(plan.planned.attr("id"), &Value::string("db-1"));
        assert_eq!(plan.planned.attr("plan"), &Value::string("big"));
        assert!(plan.requires_replace.is_empty(), "plan changes in place");
    }

    #[test]
    fn plan_lists_changed_replacing_attributes_only() {
        let config = object(&[("name", Value::string("b")), ("engine", Value::unknown())]);
        let mut proposed = prior();
        proposed.set_attr("name", Value::string("b"));
        proposed.set_attr("engine", Value::unknown());
        let plan = plan(&block(), &rules(), &prior(), &proposed, &config);
        assert_eq!(
            plan.requires_replace,
            vec!["name".to_string(), "engine".to_string()]
        );
    }

    #[test]
    fn plan_removed_default_attribute_returns_to_default() {
        let mut old = prior();
        old.set_attr("engine", Value::string("postgresql"));
        let config = object(&[("name", Value::string("a"))]);
        let plan = plan(&block(), &rules(), &old, &old, &config);
        assert_eq!(plan.planned.attr("engine"), &Value::string("mongodb"));
        assert_eq!(plan.requires_replace, vec!["engine".to_string()]);
    }

    #[test]
    fn plan_destroy_is_null() {
        let plan = plan(&block(), &rules(), &prior(), &Value::Null, &Value::Null);
        assert_eq!(plan.planned, Value::Null);
    }

    #[test]
    fn plan_types_stay_conformant() {
        let config = object(&[("name", Value::string("a"))]);
        let planned = plan(&block(), &rules(), &Value::Null, &config, &config).planned;
        let ty: Type = block().implied_type();
        crate::tfplugin::value::to_msgpack(&planned, &ty).expect("plan encodes");
    }
}
