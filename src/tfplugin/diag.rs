//! Diagnostics: how the provider tells Terraform about user errors and warnings.
//!
//! RPCs return domain failures as diagnostics, never as gRPC errors, so the user sees a
//! readable message that can point at the attribute to fix.

use std::fmt;

use crate::tfplugin::path::AttributePath;

/// How serious a diagnostic is: errors stop the operation, warnings are only shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The operation failed; Terraform stops.
    Error,
    /// Something the user should know; the operation goes on.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        })
    }
}

/// One message for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Whether this stops the operation.
    pub severity: Severity,
    /// Short Title Case headline, e.g. "Error Creating Database".
    pub summary: String,
    /// What happened, to which object, and what to do about it.
    pub detail: String,
    /// The attribute the user can change to fix it, so Terraform can point at the config line.
    pub path: Option<AttributePath>,
}

impl Diagnostic {
    /// An error not tied to an attribute.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }

    /// A warning not tied to an attribute.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(summary, detail)
        }
    }

    /// The same diagnostic pointing at `path`.
    #[must_use]
    pub fn with_path(mut self, path: AttributePath) -> Self {
        self.path = Some(path);
        self
    }

    /// Whether this diagnostic stops the operation.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `Error: summary` then the detail and the attribute, if any; handy in logs and test failures.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.summary)?;
        if let Some(path) = &self.path
            && !path.is_root()
        {
            write!(f, " (at {path})")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// The diagnostics collected while handling one request, in the order they were raised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A collection holding one error, for functions that fail with a single reason.
    pub fn from_error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::from(Diagnostic::error(summary, detail))
    }

    /// Adds one diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Adds an error not tied to an attribute.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }

    /// Adds a warning not tied to an attribute.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::warning(summary, detail));
    }

    /// Adds an error pointing at the attribute the user should change.
    pub fn attribute_error(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::error(summary, detail).with_path(path));
    }

    /// Adds a warning pointing at an attribute.
    pub fn attribute_warning(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::warning(summary, detail).with_path(path));
    }

    /// Whether any diagnostic is an error, i.e. whether the operation must stop.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// Whether there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many diagnostics there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The diagnostics in the order they were raised.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// The diagnostics as a slice.
    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.0
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<I: IntoIterator<Item = Diagnostic>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Self(vec![diagnostic])
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(diagnostics: Vec<Diagnostic>) -> Self {
        Self(diagnostics)
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_warnings_alone_are_not_errors() {
        let mut diags = Diagnostics::new();
        assert!(diags.is_empty());
        assert!(!diags.has_errors());
        diags.warning("Deprecated Attribute", "use `size` instead");
        assert!(!diags.is_empty());
        assert!(!diags.has_errors());
        diags.attribute_error(AttributePath::attr("name"), "Invalid Name", "too long");
        assert!(diags.has_errors());
        assert_eq!(diags.len(), 2);
    }

    #[test]
    fn diagnostics_keep_order_and_paths() {
        let mut diags = Diagnostics::new();
        diags.error("First", "a");
        diags.attribute_warning(AttributePath::attr("tags").with_key("x"), "Second", "b");
        let mut more = Diagnostics::new();
        more.error("Third", "c");
        diags.extend(more);

        let summaries: Vec<&str> = diags.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(summaries, ["First", "Second", "Third"]);
        assert_eq!(diags.as_slice()[0].path, None);
        assert_eq!(
            diags.as_slice()[1].path.as_ref().map(ToString::to_string),
            Some(r#"tags["x"]"#.to_string())
        );
        assert_eq!(diags.as_slice()[1].severity, Severity::Warning);
        let owned: Vec<Diagnostic> = diags.into_iter().collect();
        assert_eq!(owned.len(), 3);
    }

    #[test]
    fn diagnostic_display_names_severity_path_and_detail() {
        let diag = Diagnostic::error("Error Creating Database", "the API said no")
            .with_path(AttributePath::attr("engine"));
        assert_eq!(
            diag.to_string(),
            "Error: Error Creating Database (at engine): the API said no"
        );
        assert_eq!(
            Diagnostic::warning("Heads Up", "").to_string(),
            "Warning: Heads Up"
        );
    }

    #[test]
    fn diagnostics_from_error_holds_one_error() {
        let diags = Diagnostics::from_error("Boom", "it broke");
        assert_eq!(diags.len(), 1);
        assert!(diags.has_errors());
        assert_eq!(diags.as_slice()[0].detail, "it broke");
    }

    #[test]
    fn diagnostics_collect_from_iterator() {
        let diags: Diagnostics = vec![Diagnostic::warning("w", ""), Diagnostic::error("e", "")]
            .into_iter()
            .collect();
        assert!(diags.has_errors());
        let borrowed: Vec<&Diagnostic> = (&diags).into_iter().collect();
        assert_eq!(borrowed.len(), 2);
    }
}
