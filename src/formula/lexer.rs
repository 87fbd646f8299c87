//! Splits a formula into tokens, each with its 1-based column.

use super::error::FormulaError;

/// Longest formula accepted, in characters.
pub(crate) const MAX_LEN: usize = 1024;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A number literal, already rounded to f32.
    Num(f32),
    /// A band, constant or function name.
    Ident(String),
    Plus,
    Minus,
    Star,
    Slash,
    /// `**` or `^`.
    Pow,
    LParen,
    RParen,
    Comma,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    Ne,
    /// End of input.
    End,
}

/// A token and the column of its first character.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub col: usize,
}

/// Tokenizes `text`; the last token is always [`Tok::End`].
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, FormulaError> {
    let err = |col: usize, msg: String| FormulaError::new(text, col, msg);
    let chars: Vec<char> = text.chars().collect();
    if chars.len() > MAX_LEN {
        return Err(err(
            MAX_LEN + 1,
            format!("formula longer than {MAX_LEN} characters"),
        ));
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let (tok, len) = match c {
            '0'..='9' | '.' => {
                let len = number_len(&chars[i..]);
                let lexeme: String = chars[i..i + len].iter().collect();
                if lexeme == "." {
                    return Err(err(col, "a lone '.' is not a number".into()));
                }
                let value: f32 = lexeme
                    .parse()
                    .map_err(|_| err(col, format!("malformed number '{lexeme}'")))?;
                if !value.is_finite() {
                    return Err(err(
                        col,
                        format!("number '{lexeme}' is too large for 32-bit floats"),
                    ));
                }
                if let Some(&after) = chars.get(i + len)
                    && (after.is_alphanumeric() || after == '_' || after == '.')
                {
                    return Err(err(
                        i + len + 1,
                        format!("unexpected '{after}' right after the number '{lexeme}'"),
                    ));
                }
                (Tok::Num(value), len)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                (Tok::Ident(chars[i..i + len].iter().collect()), len)
            }
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '*' if next == Some('*') => (Tok::Pow, 2),
            '*' => (Tok::Star, 1),
            '/' => (Tok::Slash, 1),
            '^' => (Tok::Pow, 1),
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '<' if next == Some('=') => (Tok::Le, 2),
            '<' => (Tok::Lt, 1),
            '>' if next == Some('=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '=' if next == Some('=') => (Tok::EqEq, 2),
            '=' => {
                return Err(err(col, "'=' is not an operator; compare with '=='".into()));
            }
            '!' if next == Some('=') => (Tok::Ne, 2),
            _ => {
                let shown = if c.is_control() {
                    format!("U+{:04X}", c as u32)
                } else {
                    format!("'{c}'")
                };
                return Err(err(col, format!("unexpected character {shown}")));
            }
        };
        out.push(Token { tok, col });
        i += len;
    }
    out.push(Token {
        tok: Tok::End,
        col: chars.len() + 1,
    });
    Ok(out)
}

/// Length of the number starting at `s[0]`: digits, an optional fraction and an optional
/// exponent (`1`, `1.`, `.5`, `2.5e-3`).
fn number_len(s: &[char]) -> usize {
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut n = digits(0);
    if s.get(n) == Some(&'.') {
        n += 1 + digits(n + 1);
    }
    if matches!(s.get(n), Some('e' | 'E')) {
        let mut m = n + 1;
        if matches!(s.get(m), Some('+' | '-')) {
            m += 1;
        }
        let exp = digits(m);
        if exp > 0 {
            n = m + exp;
        }
    }
    n
}
