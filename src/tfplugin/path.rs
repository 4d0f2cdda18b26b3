//! Attribute paths: where in a value a diagnostic, a replacement or a codec error points.
//!
//! The shape mirrors tfplugin6 `AttributePath`: a list of steps, each an attribute name, a
//! string element key (maps) or an integer element key (lists and tuples).

use std::fmt;

/// One step from a value into one of its parts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// Into an attribute of an object (or of a nested block).
    Attribute(String),
    /// Into an element of a map, by key.
    ElementKeyString(String),
    /// Into an element of a list or tuple, by index.
    ElementKeyInt(i64),
}

/// A path from the root of a value to one of its parts. The empty path is the root itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath {
    /// The steps from the root, outermost first; public so the protocol layer can convert them.
    pub steps: Vec<PathStep>,
}

impl AttributePath {
    /// The path of the whole value.
    pub fn root() -> Self {
        Self::default()
    }

    /// A path to a top-level attribute, the most common target of a diagnostic.
    pub fn attr(name: impl Into<String>) -> Self {
        Self {
            steps: vec![PathStep::Attribute(name.into())],
        }
    }

    /// This path extended into an attribute.
    #[must_use]
    pub fn with_attr(&self, name: impl Into<String>) -> Self {
        self.with_step(PathStep::Attribute(name.into()))
    }

    /// This path extended into a map element.
    #[must_use]
    pub fn with_key(&self, key: impl Into<String>) -> Self {
        self.with_step(PathStep::ElementKeyString(key.into()))
    }

    /// This path extended into a list or tuple element.
    #[must_use]
    pub fn with_index(&self, index: i64) -> Self {
        self.with_step(PathStep::ElementKeyInt(index))
    }

    /// This path extended by any step.
    #[must_use]
    pub fn with_step(&self, step: PathStep) -> Self {
        let mut steps = Vec::with_capacity(self.steps.len() + 1);
        steps.extend_from_slice(&self.steps);
        steps.push(step);
        Self { steps }
    }

    /// Whether this is the path of the whole value.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// The path one step up, or `None` at the root.
    pub fn parent(&self) -> Option<Self> {
        let (_, rest) = self.steps.split_last()?;
        Some(Self {
            steps: rest.to_vec(),
        })
    }

    /// The innermost step, or `None` at the root.
    pub fn last(&self) -> Option<&PathStep> {
        self.steps.last()
    }

    /// Whether `self` is `prefix` or lies inside it.
    pub fn starts_with(&self, prefix: &AttributePath) -> bool {
        self.steps.starts_with(&prefix.steps)
    }
}

impl From<Vec<PathStep>> for AttributePath {
    fn from(steps: Vec<PathStep>) -> Self {
        Self { steps }
    }
}

/// Renders the path the way Terraform users write it: `name`, `timeouts.create`, `roles[2]`,
/// `tags["x"]`. The root renders as the empty string.
impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => f.write_str(name)?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::ElementKeyString(key) => write!(f, "[{}]", quote(key))?,
                PathStep::ElementKeyInt(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A key as a double-quoted string with JSON escapes, so odd keys stay readable and unambiguous.
fn quote(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2);
    out.push('"');
    for c in key.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display_matches_terraform_syntax() {
        assert_eq!(AttributePath::root().to_string(), "");
        assert_eq!(AttributePath::attr("name").to_string(), "name");
        assert_eq!(
            AttributePath::attr("timeouts")
                .with_attr("create")
                .to_string(),
            "timeouts.create"
        );
        assert_eq!(
            AttributePath::attr("roles").with_index(2).to_string(),
            "roles[2]"
        );
        assert_eq!(
            AttributePath::attr("tags").with_key("x").to_string(),
            r#"tags["x"]"#
        );
        assert_eq!(
            AttributePath::attr("keys")
                .with_index(0)
                .with_attr("secret")
                .to_string(),
            "keys[0].secret"
        );
    }

    #[test]
    fn path_display_escapes_keys() {
        let path = AttributePath::attr("tags").with_key("a\"b\\c\n");
        assert_eq!(path.to_string(), r#"tags["a\"b\\c\n"]"#);
    }

    #[test]
    fn path_display_starting_with_element() {
        assert_eq!(AttributePath::root().with_index(3).to_string(), "[3]");
        assert_eq!(
            AttributePath::root()
                .with_key("k")
                .with_attr("a")
                .to_string(),
            r#"["k"].a"#
        );
    }

    #[test]
    fn path_builders_do_not_modify_the_original() {
        let base = AttributePath::attr("a");
        let longer = base.with_attr("b");
        assert_eq!(base.steps.len(), 1);
        assert_eq!(longer.steps.len(), 2);
        assert!(longer.starts_with(&base));
        assert!(!base.starts_with(&longer));
        assert_eq!(longer.parent(), Some(base.clone()));
        assert_eq!(longer.last(), Some(&PathStep::Attribute("b".into())));
        assert_eq!(AttributePath::root().parent(), None);
        assert!(AttributePath::root().is_root());
        assert!(!base.is_root());
    }
}
