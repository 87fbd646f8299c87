//! The parse and check error of a formula: where (1-based column) and why.

use std::fmt;

/// A formula that cannot be parsed or checked, with the column it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormulaError {
    /// The formula as given.
    pub formula: String,
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// What is wrong there, in words.
    pub message: String,
}

impl FormulaError {
    /// An error at `column` of `formula`.
    pub(crate) fn new(formula: &str, column: usize, message: impl Into<String>) -> Self {
        FormulaError {
            formula: formula.to_string(),
            column: column.max(1),
            message: message.into(),
        }
    }

    /// The formula on one line and a caret under the offending column on the next.
    pub fn pointer(&self) -> String {
        // Control characters would break the two-line picture; show them as spaces.
        let line: String = self
            .formula
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        format!("{line}\n{}^", " ".repeat(self.column - 1))
    }
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "column {}: {}\n{}",
            self.column,
            self.message,
            self.pointer()
        )
    }
}

impl std::error::Error for FormulaError {}

impl From<FormulaError> for crate::Error {
    fn from(e: FormulaError) -> Self {
        crate::Error::InvalidParameter {
            name: "formula".into(),
            value: e.formula.clone(),
            reason: format!("column {}: {}\n{}", e.column, e.message, e.pointer()),
        }
    }
}
