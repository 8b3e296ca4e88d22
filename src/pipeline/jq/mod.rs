//! jq expressions over documents, evaluated by [jaq](https://github.com/01mf02/jaq).
//!
//! Firehose's own dynamic partitioning speaks jq (`{customer: .customer_id}`),
//! so the pipeline does too. jaq is a well-kept Rust implementation of the jq
//! language; [`Jq`] compiles an expression once and runs it per document.
//!
//! Converting a whole record into jaq's values costs more than evaluating a
//! typical expression, so [`Jq::compile`] also works out which parts of its
//! input an expression can read: for `.status >= 400 and .path != "/health"`
//! that is `.status` and `.path`, and only those are converted. An expression
//! that may read anything (`keys`, `..`, `select(...)` on the record itself,
//! a user `def`) gets the whole document. The answer is the same either way,
//! which the tests check against the `jq` program itself.
//!
//! jaq's interpreter itself costs about a microsecond per document even for
//! `.status >= 400`, so the shapes most expressions take (member paths,
//! constants, comparisons, `and`, `or`, `not`, objects of those) are also
//! compiled to a plan evaluated straight on the document, with jaq's values
//! and comparisons; anything else, and any document on which jq would raise
//! an error, is left to jaq.
//!
//! ```
//! use firehose_transform::doc::Value;
//! use firehose_transform::pipeline::jq::Jq;
//!
//! let filter = Jq::compile(".status >= 400 and .path != \"/health\"").unwrap();
//! let doc = Value::parse_json(r#"{"status":503,"path":"/api","body":"..."}"#).unwrap();
//! assert_eq!(filter.is_true(&doc).unwrap(), true);
//!
//! let error = Jq::compile(".status >=").unwrap_err();
//! assert_eq!(error.to_string(), "at character 11: expected term, found the end of the expression");
//! ```

use std::fmt;

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Term};
use jaq_core::load::{Arena, File, Loader};
use jaq_core::path::Part;
use jaq_core::{data, unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;

use crate::doc::{Path, Value};

mod plan;

use plan::Plan;

/// A compiled jq expression.
pub struct Jq {
    code: String,
    filter: jaq_core::Filter<data::JustLut<Val>>,
    /// The member paths the expression can read, or `None` for "anything".
    reads: Option<Vec<Vec<String>>>,
    /// The expression evaluated without jaq's interpreter, when it is of
    /// the shapes [`plan`] covers.
    plan: Option<Plan>,
}

impl fmt::Debug for Jq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jq")
            .field("code", &self.code)
            .field("reads", &self.reads)
            .field("planned", &self.plan.is_some())
            .finish()
    }
}

/// An expression that does not compile: what and where (a character
/// position, 1-based, in the expression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JqError {
    /// 1-based character position, when known.
    pub position: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for JqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(at) => write!(f, "at character {at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for JqError {}

/// A value an expression produced, as jq would print it, or the jq error.
pub type JqResult = Result<Val, String>;

impl Jq {
    /// Compiles `code` with jq's standard library.
    pub fn compile(code: &str) -> Result<Jq, JqError> {
        let position = |part: &str| {
            // jaq reports the offending token as a slice of the code.
            let start = part.as_ptr() as usize;
            let base = code.as_ptr() as usize;
            (start >= base && start <= base + code.len())
                .then(|| code[..start - base].chars().count() + 1)
        };
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(&arena, File { code, path: () })
            .map_err(|errors| {
                let (_, error) = errors.into_iter().next().expect("an error was reported");
                load_error(code, error, position)
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let (_, undefined) = errors.into_iter().next().expect("an error was reported");
                let (name, kind) = undefined.into_iter().next().expect("an error was reported");
                JqError {
                    position: position(name),
                    message: format!("undefined {} `{name}`", kind.as_str()),
                }
            })?;
        let term = jaq_core::load::parse(code, |p| p.term());
        let reads = term
            .as_ref()
            .and_then(|term| {
                let mut paths = Vec::new();
                reads_of(term, &mut paths).map(|()| paths)
            })
            .map(minimal_paths);
        let plan = term.as_ref().and_then(Plan::new);
        Ok(Jq {
            code: code.to_string(),
            filter,
            reads,
            plan,
        })
    }

    /// The expression as given.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The member paths the expression reads, when it reads only those
    /// (`None`: it may read anything).
    ///
    /// ```
    /// use firehose_transform::pipeline::jq::Jq;
    /// let jq = Jq::compile("{customer: .customer_id, year: (.ts[0:4])}").unwrap();
    /// let reads: Vec<String> = jq.reads().unwrap().iter().map(|p| p.to_string()).collect();
    /// assert_eq!(reads, [".customer_id", ".ts"]);
    /// assert!(Jq::compile("keys").unwrap().reads().is_none());
    /// ```
    pub fn reads(&self) -> Option<Vec<Path>> {
        self.reads
            .as_ref()
            .map(|paths| paths.iter().map(|p| Path::from_keys(p.clone())).collect())
    }

    /// Runs the expression on `doc`: every value it outputs, in order, or
    /// the error it stopped with.
    pub fn run(&self, doc: &Value<'_>) -> Vec<JqResult> {
        if let Some(out) = self.plan.as_ref().and_then(|plan| plan.eval(doc)) {
            return vec![Ok(out.into_val())];
        }
        let input = match &self.reads {
            Some(paths) => {
                let refs: Vec<&[String]> = paths.iter().map(Vec::as_slice).collect();
                partial(doc, &refs)
            }
            None => to_val(doc),
        };
        self.run_val(input)
    }

    /// Runs the expression on a jaq value.
    pub fn run_val(&self, input: Val) -> Vec<JqResult> {
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut results = Vec::new();
        for result in self.filter.id.run((ctx, input)).map(unwrap_valr) {
            let failed = result.is_err();
            results.push(result.map_err(|error| error.to_string()));
            if failed {
                break;
            }
        }
        results
    }

    /// Whether the expression yields a true value for `doc` (jq's truth:
    /// anything but `false` and `null`), as `select(EXPR)` keeps a value:
    /// any true output keeps it, no output or only false ones do not. An
    /// error is returned as its message.
    pub fn is_true(&self, doc: &Value<'_>) -> Result<bool, String> {
        if let Some(out) = self.plan.as_ref().and_then(|plan| plan.eval(doc)) {
            return Ok(out.truth());
        }
        for result in self.run(doc) {
            if truthy(&result?) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// jq's truth: everything but `false` and `null`.
pub fn truthy(value: &Val) -> bool {
    !matches!(value, Val::Null | Val::Bool(false))
}

/// A jq value as text for a partition key or a name: a string as it is,
/// a number or boolean as jq prints it; `None` for null, arrays and objects.
pub fn scalar_text(value: &Val) -> Option<String> {
    match value {
        Val::TStr(bytes) | Val::BStr(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Val::Num(_) | Val::Bool(_) => Some(value.to_string()),
        _ => None,
    }
}

/// What kind of jq value this is, for messages ("null", "an array", ...).
pub fn kind(value: &Val) -> &'static str {
    match value {
        Val::Null => "null",
        Val::Bool(_) => "a boolean",
        Val::Num(_) => "a number",
        Val::TStr(_) | Val::BStr(_) => "a string",
        Val::Arr(_) => "an array",
        Val::Obj(_) => "an object",
    }
}

fn load_error(
    code: &str,
    error: jaq_core::load::Error<&str>,
    position: impl Fn(&str) -> Option<usize>,
) -> JqError {
    use jaq_core::load::Error;
    let found = |part: &str| {
        if part.is_empty() {
            "the end of the expression".to_string()
        } else {
            format!("`{}`", part.chars().take(20).collect::<String>())
        }
    };
    match error {
        Error::Io(errors) => JqError {
            position: None,
            message: errors
                .into_iter()
                .map(|(path, message)| format!("{path}: {message}"))
                .collect::<Vec<_>>()
                .join("; "),
        },
        Error::Lex(errors) => {
            let (expected, part) = errors.into_iter().next().expect("an error was reported");
            JqError {
                position: position(part),
                message: format!("expected {}, found {}", expected.as_str(), found(part)),
            }
        }
        Error::Parse(errors) => {
            let (expected, part) = errors.into_iter().next().expect("an error was reported");
            // At the end of the code jaq reports an empty slice past it.
            let at = position(part).unwrap_or(code.chars().count() + 1);
            JqError {
                position: Some(at),
                message: format!("expected {}, found {}", expected.as_str(), found(part)),
            }
        }
    }
}

/// Adds to `paths` the member paths of the input that `term` can read, when
/// its input is the document; `None` when it may read the document in ways a
/// path list cannot describe (the whole of it, its keys, ...).
fn reads_of(term: &Term<&str>, paths: &mut Vec<Vec<String>>) -> Option<()> {
    match term {
        Term::Id | Term::Recurse => None,
        Term::Num(_) | Term::Var(_) | Term::Break(_) | Term::Arr(None) => Some(()),
        Term::Str(_, parts) => {
            for part in parts {
                if let StrPart::Term(t) = part {
                    reads_of(t, paths)?;
                }
            }
            Some(())
        }
        Term::Arr(Some(t)) | Term::Neg(t) | Term::Label(_, t) => reads_of(t, paths),
        Term::Obj(entries) => {
            for (key, value) in entries {
                match value {
                    Some(value) => {
                        reads_of(key, paths)?;
                        reads_of(value, paths)?;
                    }
                    // `{a}` is `{a: .a}`; `{$x}` reads a variable.
                    None => match key {
                        Term::Var(_) => {}
                        _ => paths.push(vec![literal(key)?]),
                    },
                }
            }
            Some(())
        }
        Term::BinOp(l, op, r) => {
            reads_of(l, paths)?;
            match op {
                // `l | r`: r's input is what l outputs, parts of the
                // document that l's paths already bring in whole.
                BinaryOp::Pipe(None) => Some(()),
                // `l as $x | r`: r's input is the document again.
                BinaryOp::Pipe(Some(_))
                | BinaryOp::Comma
                | BinaryOp::Alt
                | BinaryOp::Or
                | BinaryOp::And
                | BinaryOp::Math(_)
                | BinaryOp::Cmp(_) => reads_of(r, paths),
                _ => None,
            }
        }
        Term::IfThenElse(branches, otherwise) => {
            for (condition, then) in branches {
                reads_of(condition, paths)?;
                reads_of(then, paths)?;
            }
            match otherwise {
                Some(t) => reads_of(t, paths),
                None => None, // `if c then x end` outputs the document itself
            }
        }
        // The catch handler's input is the error, not the document.
        Term::TryCatch(t, _) => reads_of(t, paths),
        Term::Path(head, path) => {
            let mut parts = path.0.iter().peekable();
            if matches!(**head, Term::Id) {
                let mut keys = Vec::new();
                while let Some((Part::Index(key), _)) = parts.peek() {
                    match literal(key) {
                        Some(key) => keys.push(key),
                        None => break,
                    }
                    parts.next();
                }
                if keys.is_empty() {
                    return None; // `.[0]`, `.[]`, `.[$k]` on the document
                }
                paths.push(keys);
            } else {
                reads_of(head, paths)?;
            }
            // Index and range expressions run on the path's own input.
            for (part, _) in &path.0 {
                match part {
                    Part::Index(t) => reads_of(t, paths)?,
                    Part::Range(from, to) => {
                        for t in [from, to].into_iter().flatten() {
                            reads_of(t, paths)?;
                        }
                    }
                }
            }
            Some(())
        }
        // Filters that ignore their input; every other call may read it.
        Term::Call(name, args)
            if args.is_empty()
                && matches!(*name, "true" | "false" | "null" | "empty" | "now" | "env") =>
        {
            Some(())
        }
        _ => None,
    }
}

/// The text of a string literal without interpolation.
fn literal(term: &Term<&str>) -> Option<String> {
    let Term::Str(None, parts) = term else {
        return None;
    };
    let mut text = String::new();
    for part in parts {
        match part {
            StrPart::Str(s) => text.push_str(s),
            StrPart::Char(c) => text.push(*c),
            StrPart::Term(_) => return None,
        }
    }
    Some(text)
}

/// Sorted, without duplicates and without paths inside another one listed
/// (`.a` brings all of `.a.b` with it).
fn minimal_paths(mut paths: Vec<Vec<String>>) -> Vec<Vec<String>> {
    paths.sort();
    paths.dedup();
    let mut kept: Vec<Vec<String>> = Vec::with_capacity(paths.len());
    for path in paths {
        if !kept.iter().any(|k| path.starts_with(k)) {
            kept.push(path);
        }
    }
    kept
}

/// The document with only `paths` (relative to `value`) in it. Where a path
/// runs into something that is not an object, that value is converted whole,
/// so that indexing it fails (or not) exactly as on the whole document.
fn partial(value: &Value<'_>, paths: &[&[String]]) -> Val {
    if paths.iter().any(|p| p.is_empty()) {
        return to_val(value);
    }
    let expanded;
    let value = match value {
        Value::Raw(_) => {
            expanded = value.get(&Path::root()).map(|v| v.into_owned());
            match &expanded {
                Some(v) => v,
                None => return Val::Null,
            }
        }
        other => other,
    };
    let Value::Object(members) = value else {
        return to_val(value);
    };
    let mut map = jaq_json::Map::default();
    let mut i = 0;
    while i < paths.len() {
        let key = &paths[i][0];
        let mut tails = Vec::new();
        while i < paths.len() && &paths[i][0] == key {
            tails.push(&paths[i][1..]);
            i += 1;
        }
        if let Some((_, member)) = members.iter().rev().find(|(k, _)| k == key) {
            map.insert(Val::from(key.clone()), partial(member, &tails));
        }
    }
    Val::obj(map)
}

/// A number as jq 1.6 and 1.7 see it: an integer when it is one that fits
/// in 64 bits, a double otherwise; so `1e3` prints (and `tostring`s, and
/// becomes a partition key) as `1000`, not as written.
fn number(text: &str) -> Val {
    if let Ok(int) = text.parse::<isize>() {
        return Val::from(int);
    }
    match text.parse::<f64>() {
        Ok(float) if float.fract() == 0.0 && float.abs() < 9.007_199_254_740_992e15 => {
            Val::from(float as isize)
        }
        Ok(float) => Val::from(float),
        Err(_) => Val::Null,
    }
}

/// A whole document as a jaq value.
pub fn to_val(value: &Value<'_>) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Str(s) => Val::from(s.to_string()),
        Value::Number(text) => number(text),
        Value::Raw(text) => {
            // Valid JSON by construction: it came through the parser. Its
            // numbers are made canonical as below, one level at a time.
            match value.get(&Path::root()) {
                Some(expanded) if !matches!(&*expanded, Value::Raw(_)) => to_val(&expanded),
                _ => jaq_json::read::parse_single(text.as_bytes()).unwrap_or(Val::Null),
            }
        }
        Value::Array(items) => items.iter().map(to_val).collect(),
        Value::Object(members) => {
            let mut map = jaq_json::Map::default();
            for (key, value) in members {
                map.insert(Val::from(key.to_string()), to_val(value));
            }
            Val::obj(map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(code: &str) -> Option<Vec<String>> {
        Jq::compile(code)
            .unwrap()
            .reads()
            .map(|paths| paths.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn reads_are_the_paths_an_expression_touches() {
        assert_eq!(
            reads(".a.b == 1 and .c"),
            Some(vec![".a.b".into(), ".c".into()])
        );
        assert_eq!(
            reads("{x: .a, y: (.b | length)}"),
            Some(vec![".a".into(), ".b".into()])
        );
        assert_eq!(
            reads(".b as $x | {a, $x}"),
            Some(vec![".a".into(), ".b".into()])
        );
        assert_eq!(reads(".a.b, .a"), Some(vec![".a".into()]));
        assert_eq!(
            reads(r#""\(.x)-\(.y)""#),
            Some(vec![".x".into(), ".y".into()])
        );
        assert_eq!(reads(".a as $v | .b"), Some(vec![".a".into(), ".b".into()]));
        assert_eq!(reads(".a[.i]"), Some(vec![".a".into(), ".i".into()]));
    }

    #[test]
    fn expressions_that_may_read_anything_get_everything() {
        for code in [
            ".",
            "keys",
            "..",
            "select(.a)",
            ".[0]",
            ".[]",
            "def f: .; f",
            "if .a then 1 end",
            ".a = 1",
        ] {
            assert_eq!(reads(code), None, "{code}");
        }
    }

    #[test]
    fn the_partial_input_gives_the_same_answers() {
        let doc = Value::parse_json(
            r#"{"a":{"b":[1,2]},"s":"text","n":null,"big":12345678901234567890}"#,
        )
        .unwrap();
        for code in [
            ".a.b[1]",
            ".s.x",
            ".s | length",
            ".missing.x",
            ".n // \"d\"",
            "{k: .big}",
            ".a.b | add",
        ] {
            let jq = Jq::compile(code).unwrap();
            let whole = jq.run_val(to_val(&doc));
            assert_eq!(jq.run(&doc), whole, "{code}");
        }
    }

    #[test]
    fn compile_errors_say_where() {
        let error = Jq::compile(".a | nosuchfn(1)").unwrap_err();
        assert_eq!(
            error.to_string(),
            "at character 6: undefined filter `nosuchfn`"
        );
        let error = Jq::compile("{a: }").unwrap_err();
        assert_eq!(error.position, Some(5));
    }
}
