//! The expressions most pipelines use, evaluated straight on the document
//! rather than by jaq's interpreter.
//!
//! jaq runs any expression through boxed iterators over its own values:
//! about a microsecond per document even for `.status >= 400`, which on
//! the pipeline benchmark was more than half the time of a filter and
//! partition keys together (measured with `perf record`). Most expressions
//! a pipeline is given are a few member paths compared with constants and
//! joined by `and`/`or`, or an object of paths for partition keys. A
//! [`Plan`] is such an expression, built from jaq's own parse of it: member
//! paths with names (`.a.b`), numbers, strings, `true`, `false`, `null`,
//! comparisons, `and`, `or`, `| not`, and objects with names for keys.
//! Each gives exactly one value, so no generator is involved.
//!
//! The answers are jaq's: values are jaq's (`jaq_json::Val`, numbers made
//! as [`to_val`] makes them for jaq), compared by jaq's own comparison
//! (strings, compared byte by byte as jaq does, skip the conversion). And
//! wherever jq would raise an error (a name looked up in a string or an
//! array) the plan gives up and jaq runs the expression, so error messages
//! are jaq's too. A property test checks plans against jaq on generated
//! documents and expressions; `tests/pipeline.rs` checks both against the
//! `jq` program.

use std::borrow::Cow;

use jaq_core::load::parse::{BinaryOp, Term};
use jaq_core::ops::Cmp;
use jaq_core::path::{Opt, Part};
use jaq_core::ValT;
use jaq_json::Val;

use super::{literal, number, to_val};
use crate::doc::{Path, Value};

/// An expression evaluated without jaq's interpreter.
#[derive(Debug, Clone)]
pub(super) enum Plan {
    /// A member path from the document, `.a.b`.
    Path(Vec<String>),
    /// A constant: a number, a string, `true`, `false` or `null`.
    Const(Val),
    /// `l == r`, `l < r`, ...
    Cmp(Box<Plan>, Cmp, Box<Plan>),
    /// `l and r` (`stop` false) or `l or r` (`stop` true): when `l`'s truth
    /// is `stop`, that is the answer; otherwise `r`'s truth is.
    Logic(Box<Plan>, bool, Box<Plan>),
    /// `l | not`.
    Not(Box<Plan>),
    /// `{name: value, ...}`, names distinct.
    Object(Vec<(String, Plan)>),
}

/// A value a plan produced: text borrowed from the document where it can
/// be (most comparisons are of strings, and a jaq string costs two
/// allocations), jaq's value otherwise.
#[derive(Debug)]
pub(super) enum Out<'v> {
    Text(Cow<'v, str>),
    /// A constant of the plan (a jaq string costs an allocation to clone).
    Const(&'v Val),
    Val(Val),
}

impl Out<'_> {
    /// The value as jaq's.
    pub(super) fn into_val(self) -> Val {
        match self {
            Out::Text(text) => Val::from(text.into_owned()),
            Out::Const(val) => val.clone(),
            Out::Val(val) => val,
        }
    }

    /// The value as jaq's, borrowed where it can be.
    fn as_val(&self) -> Cow<'_, Val> {
        match self {
            Out::Text(text) => Cow::Owned(Val::from(text.to_string())),
            Out::Const(val) => Cow::Borrowed(val),
            Out::Val(val) => Cow::Borrowed(val),
        }
    }

    /// jq's truth: everything but `false` and `null`.
    pub(super) fn truth(&self) -> bool {
        match self {
            Out::Text(_) => true,
            Out::Const(val) => val.as_bool(),
            Out::Val(val) => val.as_bool(),
        }
    }

    /// The bytes of a string, as jaq compares them.
    fn string_bytes(&self) -> Option<&[u8]> {
        match self {
            Out::Text(text) => Some(text.as_bytes()),
            Out::Const(Val::TStr(bytes) | Val::BStr(bytes))
            | Out::Val(Val::TStr(bytes) | Val::BStr(bytes)) => Some(bytes),
            Out::Const(_) | Out::Val(_) => None,
        }
    }
}

impl Plan {
    /// The plan of `term`, if it is of the shapes a plan covers.
    pub(super) fn new(term: &Term<&str>) -> Option<Plan> {
        match term {
            Term::Path(head, path) if matches!(**head, Term::Id) => {
                let keys = path
                    .0
                    .iter()
                    .map(|(part, opt)| match (part, opt) {
                        (Part::Index(key), Opt::Essential) => literal(key),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                (!keys.is_empty()).then_some(Plan::Path(keys))
            }
            Term::Num(text) => Some(Plan::Const(number_literal(text)?)),
            Term::Neg(inner) => match &**inner {
                Term::Num(text) => Some(Plan::Const((-number_literal(text)?).ok()?)),
                _ => None,
            },
            Term::Str(None, _) => Some(Plan::Const(Val::from(literal(term)?))),
            Term::Call(name, args) if args.is_empty() => match *name {
                "true" => Some(Plan::Const(Val::Bool(true))),
                "false" => Some(Plan::Const(Val::Bool(false))),
                "null" => Some(Plan::Const(Val::Null)),
                _ => None,
            },
            Term::BinOp(l, op, r) => {
                let pair = || Some((Box::new(Plan::new(l)?), Box::new(Plan::new(r)?)));
                match op {
                    BinaryOp::Cmp(cmp) => pair().map(|(l, r)| Plan::Cmp(l, *cmp, r)),
                    BinaryOp::And => pair().map(|(l, r)| Plan::Logic(l, false, r)),
                    BinaryOp::Or => pair().map(|(l, r)| Plan::Logic(l, true, r)),
                    BinaryOp::Pipe(None) if matches!(**r, Term::Call("not", ref a) if a.is_empty()) => {
                        Some(Plan::Not(Box::new(Plan::new(l)?)))
                    }
                    _ => None,
                }
            }
            Term::Obj(entries) => {
                let mut members: Vec<(String, Plan)> = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let name = literal(key)?;
                    if members.iter().any(|(n, _)| *n == name) {
                        return None; // the last one wins in jq: left to jaq
                    }
                    let value = match value {
                        Some(value) => Plan::new(value)?,
                        // `{a}` is `{a: .a}`.
                        None => Plan::Path(vec![name.clone()]),
                    };
                    members.push((name, value));
                }
                Some(Plan::Object(members))
            }
            _ => None,
        }
    }

    /// The value on `doc`; `None` where jq would raise an error (jaq then
    /// runs the expression, and says what).
    pub(super) fn eval<'v>(&'v self, doc: &'v Value<'_>) -> Option<Out<'v>> {
        Some(match self {
            Plan::Path(keys) => lookup(doc, keys)?,
            Plan::Const(val) => Out::Const(val),
            Plan::Cmp(l, cmp, r) => {
                let (l, r) = (l.eval(doc)?, r.eval(doc)?);
                let holds = match (l.string_bytes(), r.string_bytes()) {
                    (Some(l), Some(r)) => cmp.run(&l, &r),
                    _ => cmp.run(&*l.as_val(), &*r.as_val()),
                };
                Out::Val(Val::Bool(holds))
            }
            Plan::Logic(l, stop, r) => {
                let truth = if l.eval(doc)?.truth() == *stop {
                    *stop
                } else {
                    r.eval(doc)?.truth()
                };
                Out::Val(Val::Bool(truth))
            }
            Plan::Not(inner) => Out::Val(Val::Bool(!inner.eval(doc)?.truth())),
            Plan::Object(members) => {
                let mut map = jaq_json::Map::default();
                for (name, value) in members {
                    map.insert(Val::from(name.clone()), value.eval(doc)?.into_val());
                }
                Out::Val(Val::obj(map))
            }
        })
    }
}

/// A number literal as jaq compiles it: an integer that fits, else parsed
/// as a number.
fn number_literal(text: &str) -> Option<Val> {
    match text.parse::<isize>() {
        Ok(int) => Some(Val::from(int)),
        Err(_) => Val::from_num(text).ok(),
    }
}

/// The value at a member path, as jq gives it: `null` past a missing
/// member or a `null`; `None` where jq raises an error (a name looked up
/// in anything but an object or `null`).
fn lookup<'v, 'a: 'v>(doc: &'v Value<'a>, keys: &[String]) -> Option<Out<'v>> {
    let mut current: Cow<'v, Value<'a>> = Cow::Borrowed(doc);
    for key in keys {
        current = match current {
            Cow::Borrowed(Value::Object(members)) => {
                match members.iter().rev().find(|(k, _)| k == key) {
                    Some((_, member)) => Cow::Borrowed(member),
                    None => return Some(Out::Val(Val::Null)),
                }
            }
            Cow::Borrowed(Value::Null) => return Some(Out::Val(Val::Null)),
            Cow::Borrowed(raw @ Value::Raw(_)) => Cow::Owned(member_of(raw, key)?),
            Cow::Borrowed(_) => return None,
            Cow::Owned(value) => Cow::Owned(member_of(&value, key)?),
        };
    }
    Some(match current {
        Cow::Borrowed(Value::Str(text)) => Out::Text(Cow::Borrowed(text)),
        Cow::Owned(Value::Str(Cow::Borrowed(text))) => Out::Text(Cow::Borrowed(text)),
        Cow::Owned(Value::Str(Cow::Owned(text))) => Out::Text(Cow::Owned(text)),
        Cow::Borrowed(Value::Number(text)) => Out::Val(number(text)),
        found => Out::Val(to_val(&found)),
    })
}

/// The member `key` of a value looked into (a [`Value::Raw`] parsed one
/// level): `null` for a missing member and for `null`; `None` for anything
/// but an object or `null`.
fn member_of<'a>(value: &Value<'a>, key: &str) -> Option<Value<'a>> {
    match value.get(&Path::root())?.into_owned() {
        Value::Object(members) => Some(
            members
                .into_iter()
                .rev()
                .find(|(k, _)| k == key)
                .map_or(Value::Null, |(_, v)| v),
        ),
        Value::Null => Some(Value::Null),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::Jq;
    use super::*;

    /// Values of every kind jq compares, as JSON text.
    fn scalar() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1",
            "-1",
            "400",
            "1.5",
            "1e3",
            "2.50",
            "-7.25",
            "12345678901234567890",
            "1e400",
            "\"\"",
            "\"x\"",
            "\"y\"",
            "\"é\"",
            "\"a\\\"b\"",
            "\"\\u00e9\"",
            "\"400\"",
            "[]",
            "[1,\"x\"]",
            "{}",
        ])
        .prop_map(str::to_string)
    }

    /// Documents whose members `a`, `b`, `c` are missing, scalars, or
    /// objects of the same kind.
    fn document() -> impl Strategy<Value = String> {
        let leaf = scalar();
        leaf.prop_recursive(2, 16, 3, |inner| {
            prop::collection::vec(prop::option::of(inner), 3).prop_map(|members| {
                let members: Vec<String> = ["a", "b", "c"]
                    .iter()
                    .zip(members)
                    .filter_map(|(k, v)| v.map(|v| format!("\"{k}\":{v}")))
                    .collect();
                format!("{{{}}}", members.join(","))
            })
        })
        .prop_filter("an object", |doc| doc.starts_with('{'))
    }

    /// Expressions of the shapes a plan covers.
    fn expression() -> impl Strategy<Value = String> {
        let path = prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..4)
            .prop_map(|keys| keys.iter().map(|k| format!(".{k}")).collect::<String>());
        let constant = prop::sample::select(vec![
            "null", "true", "false", "0", "-1", "400", "1.5", "-2.5", "1e3", "\"x\"", "\"é\"",
            "\"400\"", "\"\"",
        ])
        .prop_map(str::to_string);
        let leaf = prop_oneof![path, constant];
        leaf.prop_recursive(3, 12, 3, |inner| {
            let op = prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">=", "and", "or"]);
            prop_oneof![
                (inner.clone(), op, inner.clone())
                    .prop_map(|(l, op, r)| format!("({l}) {op} ({r})")),
                inner.clone().prop_map(|x| format!("({x}) | not")),
                prop::collection::vec(inner, 1..3).prop_map(|values| {
                    let members: Vec<String> = values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| format!("k{i}: ({v})"))
                        .collect();
                    format!("{{{}}}", members.join(", "))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Where a plan gives an answer, it is the one jaq gives on the
        /// whole document.
        #[test]
        fn plans_answer_as_jaq_does(code in expression(), text in document()) {
            let jq = Jq::compile(&code).unwrap();
            let plan = jq.plan.as_ref().expect("a plan for every generated expression");
            let doc = Value::parse_json(&text).unwrap();
            let expected = jq.run_val(to_val(&doc));
            if let Some(out) = plan.eval(&doc) {
                // Equal, and printed alike (partition keys are printed values).
                let out = out.into_val();
                let printed: Vec<String> = expected.iter().flatten().map(Val::to_string).collect();
                prop_assert_eq!(vec![out.to_string()], printed, "{} on {}", code, text);
                prop_assert_eq!(vec![Ok(out)], expected, "{} on {}", code, text);
            } else {
                // Given up only where jq raises an error.
                prop_assert!(expected.iter().any(Result::is_err), "{} on {}: {:?}", code, text, expected);
            }
        }
    }

    #[test]
    fn only_the_covered_shapes_are_planned() {
        for code in [
            ".status >= 400 and .path != \"/health\"",
            "{customer: .customer_id}",
            "{customer_id}",
            ".a.b == -1.5 or (.c | not)",
        ] {
            assert!(Jq::compile(code).unwrap().plan.is_some(), "{code}");
        }
        for code in [
            ".",
            ".a[0]",
            ".a?",
            ".ts[0:4]",
            "{a: 1, a: 2}",
            ".a + 1 > 2",
            "not",
            ".a as $x | $x",
            "{(.k): 1}",
            "\"\\(.a)\"",
        ] {
            assert!(Jq::compile(code).unwrap().plan.is_none(), "{code}");
        }
    }

    #[test]
    fn a_name_looked_up_in_a_string_is_left_to_jaq() {
        let jq = Jq::compile(".a.b == 1").unwrap();
        let doc = Value::parse_json(r#"{"a":"text"}"#).unwrap();
        assert!(jq.plan.as_ref().unwrap().eval(&doc).is_none());
        assert!(jq.is_true(&doc).unwrap_err().contains("cannot index"));
    }
}
