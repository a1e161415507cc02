//! Host tests: quoting, expansion, redirections, lists, assignments, errors, job specs, and a
//! garbage-input run that checks nothing panics.

use std::collections::BTreeMap;
use std::string::{String, ToString};
use std::vec::Vec;

use crate::*;

/// Variables for the tests: HOME=/home/u, X="a b", EMPTY="", $? = 3.
struct TestVars {
    vars: BTreeMap<String, String>,
    status: i32,
}

impl Vars for TestVars {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn last_status(&self) -> i32 {
        self.status
    }
}

fn vars() -> TestVars {
    let vars = [("HOME", "/home/u"), ("X", "a b"), ("EMPTY", "")];
    TestVars {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        status: 3,
    }
}

/// Every pipeline of the line, expanded with [`vars`].
fn pipelines(line: &str) -> Vec<Pipeline<String>> {
    let parsed = parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    parsed
        .items
        .iter()
        .map(|item| item.pipeline.expand(&vars()))
        .collect()
}

/// The only command of the line, expanded.
fn command(line: &str) -> Command<String> {
    let mut all = pipelines(line);
    assert_eq!(all.len(), 1, "{line:?}");
    let mut pipeline = all.remove(0);
    assert_eq!(pipeline.commands.len(), 1, "{line:?}");
    pipeline.commands.remove(0)
}

fn argv(line: &str) -> Vec<String> {
    command(line).argv
}

fn err(line: &str) -> Error {
    match parse(line) {
        Ok(parsed) => panic!("{line:?} parsed as {parsed:?}"),
        Err(e) => e,
    }
}

fn conditions(line: &str) -> Vec<Condition> {
    parse(line)
        .unwrap()
        .items
        .iter()
        .map(|i| i.condition)
        .collect()
}

fn file(path: &str, append: bool) -> RedirectTarget<String> {
    RedirectTarget::Output {
        path: path.to_string(),
        append,
    }
}

fn redirects(line: &str) -> Vec<(u32, RedirectTarget<String>)> {
    command(line)
        .redirects
        .into_iter()
        .map(|r| (r.fd, r.target))
        .collect()
}

// ---- words and quoting ----

#[test]
fn plain_words_and_blanks() {
    assert_eq!(argv("echo hello world"), ["echo", "hello", "world"]);
    assert_eq!(argv("  \techo \t  a\r  "), ["echo", "a"]);
    assert_eq!(argv("echo héllo 日本"), ["echo", "héllo", "日本"]);
}

#[test]
fn empty_and_comment_lines_have_no_items() {
    for line in [
        "",
        "   ",
        "\t",
        "# just a comment",
        "   # indented",
        "\n\n",
        "\n# c\n",
    ] {
        assert_eq!(parse(line).unwrap(), Line::default(), "{line:?}");
    }
}

#[test]
fn single_quotes_are_literal() {
    assert_eq!(
        argv(r#"echo '$HOME \n "x" | ; & > #'"#),
        ["echo", r#"$HOME \n "x" | ; & > #"#]
    );
    assert_eq!(argv(r"echo 'a\'"), ["echo", r"a\"]);
}

#[test]
fn double_quotes_expand_and_keep_blanks() {
    assert_eq!(
        argv(r#"echo "home is $HOME" "a  b""#),
        ["echo", "home is /home/u", "a  b"]
    );
    assert_eq!(argv(r#"echo "| ; & > < # '""#), ["echo", "| ; & > < # '"]);
}

#[test]
fn double_quote_escapes() {
    assert_eq!(
        argv(r#"echo "a\"b" "c\\d" "\$HOME" "\`""#),
        ["echo", "a\"b", r"c\d", "$HOME", "`"]
    );
    // Before any other character the backslash stays.
    assert_eq!(argv(r#"echo "\a\n""#), ["echo", r"\a\n"]);
}

#[test]
fn backslash_outside_quotes() {
    assert_eq!(
        argv(r"echo a\ b \$HOME \' \\ \# \|"),
        ["echo", "a b", "$HOME", "'", r"\", "#", "|"]
    );
}

#[test]
fn backslash_newline_continues_the_line() {
    assert_eq!(argv("echo ab\\\ncd \\\n ef"), ["echo", "abcd", "ef"]);
    assert_eq!(argv("echo \"ab\\\ncd\""), ["echo", "abcd"]);
}

#[test]
fn adjacent_pieces_form_one_word() {
    assert_eq!(argv(r#"echo a'b'"c"\d$HOME"#), ["echo", "abcd/home/u"]);
}

#[test]
fn empty_quoted_words_are_kept() {
    assert_eq!(argv(r#"echo '' "" x''"#), ["echo", "", "", "x"]);
    let word = &parse("''").unwrap().items[0].pipeline.commands[0].argv[0];
    assert_eq!(
        word,
        &Word {
            parts: Vec::new(),
            quoted: true
        }
    );
}

// ---- expansion ----

#[test]
fn variables_plain_and_braced() {
    assert_eq!(
        argv("echo $HOME ${HOME} ${HOME}x $HOME.x $HOME/bin a${HOME}b"),
        [
            "echo",
            "/home/u",
            "/home/u",
            "/home/ux",
            "/home/u.x",
            "/home/u/bin",
            "a/home/ub"
        ]
    );
    // A name extends as far as name characters go.
    assert_eq!(argv("echo $HOMEx"), ["echo"]);
}

#[test]
fn last_status() {
    assert_eq!(
        argv(r#"echo $? "$?" ${?} x$?y"#),
        ["echo", "3", "3", "3", "x3y"]
    );
    let words = &parse("echo $?").unwrap().items[0].pipeline.commands[0].argv;
    assert_eq!(words[1].parts, [WordPart::Status]);
}

#[test]
fn unknown_and_empty_variables() {
    // Unquoted and empty: the argument disappears. Quoted: an empty argument.
    assert_eq!(
        argv(r#"echo $NOPE a$NOPE "$NOPE" $EMPTY "$EMPTY" ${NOPE}"#),
        ["echo", "a", "", ""]
    );
}

#[test]
fn no_word_splitting() {
    assert_eq!(argv("echo $X"), ["echo", "a b"]);
    assert_eq!(argv("echo $X$X"), ["echo", "a ba b"]);
}

#[test]
fn no_globbing() {
    assert_eq!(argv("ls *.txt a?c [ab]"), ["ls", "*.txt", "a?c", "[ab]"]);
}

#[test]
fn dollar_without_a_name_is_literal() {
    assert_eq!(
        argv(r#"echo $ a$ $1 $$ $- "$" "x$ y" \$X"#),
        ["echo", "$", "a$", "$1", "$$", "$-", "$", "x$ y", "$X"]
    );
}

#[test]
fn expansion_is_deferred_until_expand() {
    // The parse keeps the references, so each pipeline sees values current when it runs.
    let line = parse("X=1; echo $X ${Y}").unwrap();
    let argv = &line.items[1].pipeline.commands[0].argv;
    assert_eq!(argv[1].parts, [WordPart::Var("X".into())]);
    assert_eq!(argv[2].parts, [WordPart::Var("Y".into())]);
    assert_eq!(argv[0].literal(), Some("echo"));
    assert_eq!(argv[1].literal(), None);
}

// ---- comments ----

#[test]
fn comments_start_only_at_word_start() {
    assert_eq!(argv("echo a # b c"), ["echo", "a"]);
    assert_eq!(argv("echo a#b"), ["echo", "a#b"]);
    assert_eq!(argv("echo '#' \"#\" \\#x"), ["echo", "#", "#", "#x"]);
    assert_eq!(argv("echo ''#x"), ["echo", "#x"]);
    assert_eq!(pipelines("a # b; c | d").len(), 1);
    assert_eq!(pipelines("a #c\nb").len(), 2);
}

// ---- redirections ----

#[test]
fn input_redirection() {
    for line in ["cat < in", "cat <in", "cat<in", "< in cat"] {
        assert_eq!(
            redirects(line),
            [(0, RedirectTarget::Input("in".into()))],
            "{line:?}"
        );
        assert_eq!(argv(line), ["cat"], "{line:?}");
    }
    assert_eq!(
        redirects("cat 3< in"),
        [(3, RedirectTarget::Input("in".into()))]
    );
}

#[test]
fn output_truncate_and_append() {
    for line in ["echo > out", "echo >out", "echo 1>out", "echo 1> out"] {
        assert_eq!(redirects(line), [(1, file("out", false))], "{line:?}");
    }
    for line in ["echo >> out", "echo >>out", "echo 1>>out"] {
        assert_eq!(redirects(line), [(1, file("out", true))], "{line:?}");
    }
}

#[test]
fn stderr_redirections() {
    assert_eq!(redirects("cmd 2> err"), [(2, file("err", false))]);
    assert_eq!(redirects("cmd 2>err"), [(2, file("err", false))]);
    assert_eq!(redirects("cmd 2>> err"), [(2, file("err", true))]);
    assert_eq!(redirects("cmd 2>>err"), [(2, file("err", true))]);
}

#[test]
fn descriptor_duplication() {
    assert_eq!(redirects("cmd 2>&1"), [(2, RedirectTarget::Fd(1))]);
    assert_eq!(redirects("cmd >&2"), [(1, RedirectTarget::Fd(2))]);
    assert_eq!(redirects("cmd 1>&2"), [(1, RedirectTarget::Fd(2))]);
    assert_eq!(redirects("cmd 2>& 1"), [(2, RedirectTarget::Fd(1))]);
    assert_eq!(redirects("cmd <&3"), [(0, RedirectTarget::Fd(3))]);
    assert_eq!(redirects("cmd 4<&0"), [(4, RedirectTarget::Fd(0))]);
    assert_eq!(argv("cmd 2>&1"), ["cmd"]);
}

#[test]
fn redirections_keep_their_order() {
    assert_eq!(
        redirects("cmd >out 2>&1"),
        [(1, file("out", false)), (2, RedirectTarget::Fd(1))]
    );
    assert_eq!(
        redirects("cmd 2>&1 >out"),
        [(2, RedirectTarget::Fd(1)), (1, file("out", false))]
    );
}

#[test]
fn redirections_anywhere_in_the_command() {
    let cmd = command(">out echo a 2>err b <in");
    assert_eq!(cmd.argv, ["echo", "a", "b"]);
    assert_eq!(
        cmd.redirects
            .into_iter()
            .map(|r| (r.fd, r.target))
            .collect::<Vec<_>>(),
        [
            (1, file("out", false)),
            (2, file("err", false)),
            (0, RedirectTarget::Input("in".into()))
        ]
    );
}

#[test]
fn fd_number_must_touch_the_operator_and_be_unquoted() {
    assert_eq!(argv("echo 2 > x"), ["echo", "2"]);
    assert_eq!(redirects("echo 2 > x"), [(1, file("x", false))]);
    assert_eq!(argv("echo a2>x"), ["echo", "a2"]);
    assert_eq!(redirects("echo a2>x"), [(1, file("x", false))]);
    assert_eq!(argv(r#"echo "2">x \2>y"#), ["echo", "2", "2"]);
}

#[test]
fn redirect_targets_are_words() {
    assert_eq!(
        redirects("echo > $HOME/out"),
        [(1, file("/home/u/out", false))]
    );
    assert_eq!(redirects("echo >'my file'"), [(1, file("my file", false))]);
    assert_eq!(redirects("echo >$X"), [(1, file("a b", false))]);
    // Kept even when empty (opening "" then fails in the executor).
    assert_eq!(redirects("echo >$NOPE"), [(1, file("", false))]);
}

#[test]
fn redirections_only() {
    let cmd = command("> f");
    assert!(cmd.argv.is_empty() && cmd.assignments.is_empty());
    assert_eq!(cmd.redirects.len(), 1);
}

// ---- pipelines and lists ----

#[test]
fn pipelines_of_several_commands() {
    for line in ["ls /bin | grep a | wc -l", "ls /bin|grep a|wc -l"] {
        let p = pipelines(line);
        assert_eq!(p.len(), 1);
        let argvs: Vec<_> = p[0].commands.iter().map(|c| c.argv.clone()).collect();
        assert_eq!(
            argvs,
            [vec!["ls", "/bin"], vec!["grep", "a"], vec!["wc", "-l"]],
            "{line:?}"
        );
        assert!(!p[0].background);
    }
}

#[test]
fn redirections_inside_a_pipeline() {
    let p = &pipelines("cat < in 2>&1 | wc > out")[0];
    assert_eq!(
        p.commands[0].redirects[0].target,
        RedirectTarget::Input("in".into())
    );
    assert_eq!(p.commands[0].redirects[1].target, RedirectTarget::Fd(1));
    assert_eq!(p.commands[1].redirects[0].target, file("out", false));
}

#[test]
fn background() {
    let p = pipelines("sleep 100 &");
    assert!(p[0].background);
    assert_eq!(p[0].commands[0].argv, ["sleep", "100"]);
    let p = pipelines("a | b&");
    assert!(p[0].background);
    assert_eq!(p[0].commands.len(), 2);
}

#[test]
fn background_separates_like_semicolon() {
    let p = pipelines("a & b & c");
    assert_eq!(
        p.iter().map(|p| p.background).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(conditions("a & b & c"), [Condition::Always; 3]);
}

#[test]
fn semicolons_and_newlines() {
    let p = pipelines("echo a; echo b;echo c;");
    assert_eq!(
        p.iter()
            .map(|p| p.commands[0].argv[1].clone())
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert_eq!(conditions("a; b\nc\n\n d\n"), [Condition::Always; 4]);
}

#[test]
fn and_or_lists() {
    use Condition::*;
    assert_eq!(
        conditions("a && b || c ; d"),
        [Always, IfSucceeded, IfFailed, Always]
    );
    assert_eq!(conditions("a&&b||c"), [Always, IfSucceeded, IfFailed]);
    // A newline may follow `&&`, `||` and `|`.
    assert_eq!(
        conditions("a &&\n b ||\n\n c |\n d"),
        [Always, IfSucceeded, IfFailed]
    );
    let p = pipelines("false && sleep 1 &");
    assert!(!p[0].background && p[1].background);
}

#[test]
fn condition_should_run() {
    assert!(Condition::Always.should_run(0) && Condition::Always.should_run(1));
    assert!(Condition::IfSucceeded.should_run(0) && !Condition::IfSucceeded.should_run(2));
    assert!(!Condition::IfFailed.should_run(0) && Condition::IfFailed.should_run(-1));
}

// ---- assignments ----

#[test]
fn assignments_before_a_command() {
    let cmd = command("A=1 _b2=x cmd A=2 arg");
    let assigned: Vec<_> = cmd
        .assignments
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(assigned, [("A", "1"), ("_b2", "x")]);
    assert_eq!(cmd.argv, ["cmd", "A=2", "arg"]);
}

#[test]
fn assignments_only() {
    let cmd = command("A=1 B=");
    assert!(cmd.argv.is_empty());
    let assigned: Vec<_> = cmd
        .assignments
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(assigned, [("A", "1"), ("B", "")]);
    // Redirections do not end the assignment prefix.
    let cmd = command("A=1 >f B=2 cmd");
    assert_eq!(
        (cmd.assignments.len(), cmd.argv.len(), cmd.redirects.len()),
        (2, 1, 1)
    );
}

#[test]
fn assignment_values_are_quoted_and_expanded_but_never_dropped() {
    let cmd = command(r#"A="x $HOME" B='a b' C=$X D=$NOPE E=a=b F=pre"$HOME" G=\$"#);
    let assigned: Vec<_> = cmd
        .assignments
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(
        assigned,
        [
            ("A", "x /home/u"),
            ("B", "a b"),
            ("C", "a b"),
            ("D", ""),
            ("E", "a=b"),
            ("F", "pre/home/u"),
            ("G", "$")
        ]
    );
}

#[test]
fn words_that_are_not_assignments() {
    for word in [
        "1A=x", r#""A"=x"#, r"A\=x", "=x", "a-b=c", "'A=x'", "$HOME=x", "é=1",
    ] {
        let cmd = command(word);
        assert!(cmd.assignments.is_empty(), "{word:?}");
        assert_eq!(cmd.argv.len(), 1, "{word:?}");
    }
}

#[test]
fn command_name_expanding_to_nothing_leaves_only_assignments() {
    let cmd = command("A=1 $NOPE");
    assert!(cmd.argv.is_empty());
    assert_eq!(cmd.assignments.len(), 1);
}

// ---- errors ----

#[test]
fn quoting_errors() {
    assert_eq!(err("echo 'abc"), Error::UnterminatedSingleQuote);
    assert_eq!(err("echo \"abc"), Error::UnterminatedDoubleQuote);
    assert_eq!(err("echo \"abc\\"), Error::UnterminatedDoubleQuote);
    assert_eq!(err("echo ${HOME"), Error::UnterminatedBrace);
    assert_eq!(err("echo \"${HOME\""), Error::UnterminatedBrace);
    assert_eq!(err("echo abc\\"), Error::TrailingBackslash);
    assert_eq!(err("echo a\0b"), Error::NulByte);
}

#[test]
fn bad_substitutions() {
    assert_eq!(err("echo ${}"), Error::BadSubstitution("".into()));
    assert_eq!(err("echo ${a-b}"), Error::BadSubstitution("a-b".into()));
    assert_eq!(err("echo ${X:-y}"), Error::BadSubstitution("X:-y".into()));
    assert_eq!(err("echo ${1}"), Error::BadSubstitution("1".into()));
}

#[test]
fn missing_redirection_targets() {
    assert_eq!(err("echo >"), Error::MissingRedirectTarget(">"));
    assert_eq!(err("echo > ;"), Error::MissingRedirectTarget(">"));
    assert_eq!(err("echo 2>"), Error::MissingRedirectTarget(">"));
    assert_eq!(err("echo >>| x"), Error::MissingRedirectTarget(">>"));
    assert_eq!(err("cat < | x"), Error::MissingRedirectTarget("<"));
    assert_eq!(err("cat <<EOF"), Error::MissingRedirectTarget("<"));
    assert_eq!(err("echo >\nfile"), Error::MissingRedirectTarget(">"));
}

#[test]
fn bad_descriptor_duplications() {
    assert_eq!(err("echo >&"), Error::ExpectedFd(">&"));
    assert_eq!(err("echo 2>&x"), Error::ExpectedFd(">&"));
    assert_eq!(err("echo >&$FD"), Error::ExpectedFd(">&"));
    assert_eq!(err("echo >&-"), Error::ExpectedFd(">&"));
    assert_eq!(err("cat <& file"), Error::ExpectedFd("<&"));
    assert_eq!(
        err("echo 2>&99999999999"),
        Error::FdOutOfRange("99999999999".into())
    );
    assert_eq!(
        err("echo 99999999999>x"),
        Error::FdOutOfRange("99999999999".into())
    );
}

#[test]
fn operators_without_commands() {
    for (line, expected) in [
        ("a |", Error::UnexpectedEnd("|")),
        ("a | \n", Error::UnexpectedEnd("|")),
        ("| a", Error::UnexpectedToken("|")),
        ("a | | b", Error::UnexpectedToken("|")),
        ("a || | b", Error::UnexpectedToken("|")),
        ("a &&", Error::UnexpectedEnd("&&")),
        ("a ||", Error::UnexpectedEnd("||")),
        ("&& a", Error::UnexpectedToken("&&")),
        ("a && && b", Error::UnexpectedToken("&&")),
        ("a && ; b", Error::UnexpectedToken(";")),
        ("a\n&& b", Error::UnexpectedToken("&&")),
        (";", Error::UnexpectedToken(";")),
        ("a ;; b", Error::UnexpectedToken(";")),
        ("&", Error::UnexpectedToken("&")),
        ("a & &", Error::UnexpectedToken("&")),
        ("a & ;", Error::UnexpectedToken(";")),
        ("a | &", Error::UnexpectedToken("&")),
        ("a |& b", Error::UnexpectedToken("&")),
    ] {
        assert_eq!(err(line), expected, "{line:?}");
    }
}

#[test]
fn error_messages_name_the_problem() {
    let messages: Vec<String> = [
        "echo 'a",
        "echo \"a",
        "a |",
        "| a",
        "echo >",
        "echo >&x",
        "echo ${a-b}",
        "a\\",
    ]
    .iter()
    .map(|line| err(line).to_string())
    .collect();
    assert_eq!(
        messages,
        [
            "syntax error: unterminated single quote (')",
            "syntax error: unterminated double quote (\")",
            "syntax error: `|` with no command after it",
            "syntax error near unexpected `|`",
            "syntax error: `>` needs a file name after it",
            "syntax error: `>&` needs a file descriptor number after it (as in `2>&1`)",
            "${a-b}: bad substitution",
            "syntax error: `\\` at the end of the line",
        ]
    );
    assert_eq!(
        parse_job_spec("x").unwrap_err().to_string(),
        "x: not a job (%N) or process id"
    );
}

// ---- job specs ----

#[test]
fn job_specs() {
    assert_eq!(parse_job_spec("%2"), Ok(JobRef::Job(2)));
    assert_eq!(parse_job_spec("%10"), Ok(JobRef::Job(10)));
    assert_eq!(parse_job_spec("1234"), Ok(JobRef::Pid(1234)));
    assert_eq!(parse_job_spec("0"), Ok(JobRef::Pid(0)));
    for bad in [
        "",
        "%",
        "%%",
        "%+",
        "%-1",
        "+5",
        "-5",
        " 5",
        "5 ",
        "%a",
        "abc",
        "12a",
        "99999999999",
        "%99999999999",
        "٣",
    ] {
        assert_eq!(
            parse_job_spec(bad),
            Err(Error::InvalidJobSpec(bad.into())),
            "{bad:?}"
        );
    }
}

// ---- robustness ----

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Checks what the executor relies on for every line that parses.
fn check_invariants(line: &Line) {
    for item in &line.items {
        assert!(!item.pipeline.commands.is_empty());
        for cmd in &item.pipeline.commands {
            assert!(
                !(cmd.assignments.is_empty() && cmd.argv.is_empty() && cmd.redirects.is_empty())
            );
        }
        let _ = item.pipeline.expand(&vars());
    }
}

#[test]
fn garbage_never_panics() {
    // Mostly shell metacharacters, so that the random lines hit every path of the lexer and
    // the parser, plus some multi-byte characters and raw bytes.
    const ALPHABET: &[char] = &[
        'a', 'b', 'Z', '_', '0', '1', '2', '9', ' ', ' ', '\t', '\n', '\r', '\'', '"', '\\', '$',
        '{', '}', '?', '|', '|', '&', '&', ';', '<', '>', '>', '#', '=', '%', '*', '-', '`', 'é',
        '日', '\0',
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut parsed, mut rejected) = (0, 0);
    for round in 0..30_000 {
        let len = rng.below(24);
        let line: String = if round % 4 == 0 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            (0..len)
                .map(|_| ALPHABET[rng.below(ALPHABET.len())])
                .collect()
        };
        match parse(&line) {
            Ok(result) => {
                check_invariants(&result);
                parsed += 1;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                rejected += 1;
            }
        }
        let _ = parse_job_spec(&line);
    }
    // Both outcomes must be common, or the generator is not exercising anything.
    assert!(
        parsed > 1000 && rejected > 1000,
        "parsed {parsed}, rejected {rejected}"
    );
}
