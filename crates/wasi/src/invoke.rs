//! `--invoke EXPORT ARG...` as `wasmtime run` does it, the same for both engines and both
//! sides (`clew run --host` and the kernel): each argument parsed by its parameter's type
//! (decimal or `0x` hexadecimal integers, floats), wasmtime's "experimental" warnings, and
//! the results printed one per line. The engine adapters map their value types onto
//! [`Scalar`] (`wasmi_adapter::invoke_params`, `wasmtime_adapter::invoke_params` and the
//! `invoke_results` beside them).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// What `wasmtime run` prints on stderr when the invoked function takes arguments.
pub const ARGS_WARNING: &str = "warning: using `--invoke` with a function that takes arguments is experimental and may break in the future\n";

/// What `wasmtime run` prints on stderr when the invoked function returns values.
pub const RESULTS_WARNING: &str = "warning: using `--invoke` with a function that returns values is experimental and may break in the future\n";

/// The value types an argument can be given for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

/// An argument or a result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// `f32`.
    F32(f32),
    /// `f64`.
    F64(f64),
}

/// Parses `s` as a value of type `ty`; the error is Rust's parse error, as `wasmtime run`
/// reports it (e.g. "invalid digit found in string").
pub fn parse(ty: ScalarType, s: &str) -> Result<Scalar, String> {
    use alloc::string::ToString;
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"));
    let e = |e: &dyn core::fmt::Display| e.to_string();
    Ok(match ty {
        ScalarType::I32 => Scalar::I32(match hex {
            Some(h) => i32::from_str_radix(h, 16).map_err(|x| e(&x))?,
            None => s.parse().map_err(|x| e(&x))?,
        }),
        ScalarType::I64 => Scalar::I64(match hex {
            Some(h) => i64::from_str_radix(h, 16).map_err(|x| e(&x))?,
            None => s.parse().map_err(|x| e(&x))?,
        }),
        ScalarType::F32 => Scalar::F32(s.parse().map_err(|x| e(&x))?),
        ScalarType::F64 => Scalar::F64(s.parse().map_err(|x| e(&x))?),
    })
}

/// The export `wasmtime run` calls (after `_initialize`, which it calls whenever a module
/// exports it): `--invoke NAME`, else the module's default export `""`, else `_start`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The export's name.
    pub name: String,
    /// Chosen without `--invoke`: errors then say "command default".
    pub default: bool,
}

impl Entry {
    /// Picks the entry among the functions the instance exports (`exists`). `Ok(None)`:
    /// no `--invoke` and neither `""` nor `_start`, so nothing is called and the run
    /// succeeds (a reactor run for its `_initialize`), as under `wasmtime run`.
    pub fn choose(
        invoke: Option<&str>,
        mut exists: impl FnMut(&str) -> bool,
    ) -> Result<Option<Entry>, String> {
        if let Some(name) = invoke {
            if !exists(name) {
                return Err(format!("no func export named `{name}` found"));
            }
            return Ok(Some(Entry {
                name: name.into(),
                default: false,
            }));
        }
        Ok(["", "_start"]
            .into_iter()
            .find(|n| exists(n))
            .map(|n| Entry {
                name: n.into(),
                default: true,
            }))
    }

    /// How messages name the call: "`NAME`" or "command default".
    pub fn label(&self) -> String {
        if self.default {
            String::from("command default")
        } else {
            format!("`{}`", self.name)
        }
    }

    /// The first cause of a failed call: "failed to invoke `NAME`" or "failed to invoke
    /// command default".
    pub fn context(&self) -> String {
        format!("failed to invoke {}", self.label())
    }
}

/// The arguments of the call `label` names ([`Entry::label`]), whose parameter types are
/// `params` (`None`: a type no argument can be given for, such as a reference), from the
/// command line's `args`.
pub fn params(
    label: &str,
    params: impl Iterator<Item = Option<ScalarType>>,
    args: &[String],
) -> Result<Vec<Scalar>, String> {
    let mut args = args.iter();
    let mut out = Vec::new();
    for ty in params {
        let Some(s) = args.next() else {
            return Err(format!("not enough arguments for {label}"));
        };
        let Some(ty) = ty else {
            return Err(format!("unsupported parameter type for {label}"));
        };
        out.push(parse(ty, s)?);
    }
    Ok(out)
}

/// One result as `wasmtime run` prints it (with the newline).
pub fn result_line(v: Scalar) -> String {
    match v {
        Scalar::I32(v) => format!("{v}\n"),
        Scalar::I64(v) => format!("{v}\n"),
        Scalar::F32(v) => format!("{v}\n"),
        Scalar::F64(v) => format!("{v}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn arguments_by_type() {
        let args: Vec<String> = ["7", "0x10", "-1.5", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let tys = [
            Some(ScalarType::I32),
            Some(ScalarType::I64),
            Some(ScalarType::F32),
            Some(ScalarType::F64),
        ];
        assert_eq!(
            params("`f`", tys.into_iter(), &args),
            Ok(vec![
                Scalar::I32(7),
                Scalar::I64(16),
                Scalar::F32(-1.5),
                Scalar::F64(2.0)
            ])
        );
        assert_eq!(
            params("command default", [Some(ScalarType::I32)].into_iter(), &[]),
            Err("not enough arguments for command default".into())
        );
        assert_eq!(
            params(
                "`f`",
                [Some(ScalarType::I32)].into_iter(),
                &["x".to_string()]
            ),
            Err("invalid digit found in string".into())
        );
        assert_eq!(
            params("`f`", [None].into_iter(), &["1".to_string()]),
            Err("unsupported parameter type for `f`".into())
        );
        assert_eq!(
            parse(ScalarType::I32, "0X7fffffff"),
            Ok(Scalar::I32(i32::MAX))
        );
        assert_eq!(
            parse(ScalarType::I32, "4294967296"),
            Err("number too large to fit in target type".into())
        );
        assert_eq!(
            parse(ScalarType::F64, "1.5.2"),
            Err("invalid float literal".into())
        );
        assert_eq!(result_line(Scalar::F64(0.5)), "0.5\n");
        // The entry: `--invoke` (which must exist), else "" before `_start`, else none.
        let both = |n: &str| n.is_empty() || n == "_start";
        let start = |n: &str| n == "_start";
        let entry = |n: &str, default| {
            Some(Entry {
                name: n.into(),
                default,
            })
        };
        assert_eq!(Entry::choose(None, both), Ok(entry("", true)));
        assert_eq!(Entry::choose(None, start), Ok(entry("_start", true)));
        assert_eq!(Entry::choose(None, |_| false), Ok(None));
        assert_eq!(Entry::choose(Some(""), both), Ok(entry("", false)));
        assert_eq!(
            Entry::choose(Some("f"), start),
            Err("no func export named `f` found".into())
        );
        assert_eq!(
            entry("", true).unwrap().context(),
            "failed to invoke command default"
        );
        assert_eq!(entry("f", false).unwrap().label(), "`f`");
        assert_eq!(result_line(Scalar::I64(-3)), "-3\n");
    }
}
