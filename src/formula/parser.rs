//! Recursive-descent parser: tokens to [`Expr`], with Python's precedence.
//!
//! ```text
//! formula    := comparison End
//! comparison := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum]
//! sum        := product (("+" | "-") product)*
//! product    := unary (("*" | "/") unary)*
//! unary      := ("-" | "+") unary | power
//! power      := primary [("**" | "^") unary]          (right-associative; -x**2 = -(x**2))
//! primary    := number | name | name "(" [comparison ("," comparison)*] ")" | "(" comparison ")"
//! ```

use super::ast::{BinOp, CmpOp, Expr, ExprKind};
use super::error::FormulaError;
use super::lexer::{Tok, Token, tokenize};

/// Deepest nesting accepted, so that no input can exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 128;

/// Parses `text` into a syntax tree.
pub(crate) fn parse(text: &str) -> Result<Expr, FormulaError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        text,
        tokens,
        pos: 0,
        depth: 0,
    };
    if p.peek() == &Tok::End {
        return Err(p.error_here("empty formula"));
    }
    let e = p.comparison()?;
    if p.peek() != &Tok::End {
        let msg = match p.peek() {
            Tok::RParen => "unmatched ')'".to_string(),
            Tok::LParen | Tok::Num(_) | Tok::Ident(_) => {
                "expected an operator between two operands".to_string()
            }
            Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::EqEq | Tok::Ne => {
                "comparisons cannot be chained; combine them with where(...)".to_string()
            }
            t => format!("unexpected {}", describe(t)),
        };
        return Err(p.error_here(msg));
    }
    Ok(e)
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].tok
    }

    fn col(&self) -> usize {
        self.tokens[self.pos.min(self.tokens.len() - 1)].col
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos.min(self.tokens.len() - 1)].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn error_here(&self, msg: impl Into<String>) -> FormulaError {
        FormulaError::new(self.text, self.col(), msg)
    }

    fn enter(&mut self) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(format!("formula nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn comparison(&mut self) -> Result<Expr, FormulaError> {
        let left = self.sum()?;
        let op = match self.peek() {
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            Tok::EqEq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            _ => return Ok(left),
        };
        let col = self.bump().col;
        let right = self.sum()?;
        Ok(Expr {
            kind: ExprKind::Compare(op, Box::new(left), Box::new(right)),
            col,
        })
    }

    fn sum(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(left),
            };
            let col = self.bump().col;
            let right = self.product()?;
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                col,
            };
        }
    }

    fn product(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                _ => return Ok(left),
            };
            let col = self.bump().col;
            let right = self.unary()?;
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                col,
            };
        }
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        self.enter()?;
        let e = match self.peek() {
            Tok::Minus => {
                let col = self.bump().col;
                let operand = self.unary()?;
                Expr {
                    kind: ExprKind::Neg(Box::new(operand)),
                    col,
                }
            }
            Tok::Plus => {
                self.bump();
                self.unary()?
            }
            _ => self.power()?,
        };
        self.depth -= 1;
        Ok(e)
    }

    fn power(&mut self) -> Result<Expr, FormulaError> {
        let base = self.primary()?;
        if self.peek() != &Tok::Pow {
            return Ok(base);
        }
        let col = self.bump().col;
        let exponent = self.unary()?;
        Ok(Expr {
            kind: ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(exponent)),
            col,
        })
    }

    fn primary(&mut self) -> Result<Expr, FormulaError> {
        self.enter()?;
        let col = self.col();
        let e = match self.peek().clone() {
            Tok::Num(v) => {
                self.bump();
                Expr {
                    kind: ExprKind::Num(v),
                    col,
                }
            }
            Tok::Ident(name) => {
                self.bump();
                if self.peek() == &Tok::LParen {
                    self.bump();
                    let args = self.arguments(&name, col)?;
                    Expr {
                        kind: ExprKind::Call(name, args),
                        col,
                    }
                } else {
                    Expr {
                        kind: ExprKind::Name(name),
                        col,
                    }
                }
            }
            Tok::LParen => {
                self.bump();
                if self.peek() == &Tok::RParen {
                    return Err(self.error_here("empty parentheses"));
                }
                let inner = self.comparison()?;
                if self.peek() != &Tok::RParen {
                    return Err(self.error_here(format!(
                        "expected ')' to close the '(' at column {col}, found {}",
                        describe(self.peek())
                    )));
                }
                self.bump();
                inner
            }
            Tok::End => return Err(self.error_here("formula ends where an operand is expected")),
            t => {
                return Err(self.error_here(format!(
                    "expected a number, band, constant or '(', found {}",
                    describe(&t)
                )));
            }
        };
        self.depth -= 1;
        Ok(e)
    }

    /// Arguments of a call after its '(' up to and including the ')'.
    fn arguments(&mut self, name: &str, col: usize) -> Result<Vec<Expr>, FormulaError> {
        let mut args = Vec::new();
        if self.peek() == &Tok::RParen {
            self.bump();
            return Ok(args);
        }
        loop {
            args.push(self.comparison()?);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {
                    self.bump();
                    return Ok(args);
                }
                t => {
                    return Err(self.error_here(format!(
                        "expected ',' or ')' in the arguments of {name}(...) at column {col}, found {}",
                        describe(t)
                    )));
                }
            }
        }
    }
}

/// A token in words, for messages.
fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(v) => format!("the number {v}"),
        Tok::Ident(n) => format!("'{n}'"),
        Tok::Plus => "'+'".into(),
        Tok::Minus => "'-'".into(),
        Tok::Star => "'*'".into(),
        Tok::Slash => "'/'".into(),
        Tok::Pow => "a power operator".into(),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::Lt => "'<'".into(),
        Tok::Le => "'<='".into(),
        Tok::Gt => "'>'".into(),
        Tok::Ge => "'>='".into(),
        Tok::EqEq => "'=='".into(),
        Tok::Ne => "'!='".into(),
        Tok::End => "the end of the formula".into(),
    }
}
