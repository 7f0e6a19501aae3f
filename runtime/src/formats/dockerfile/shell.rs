//! Splits POSIX shell text (a `RUN` line or script) into simple commands.
//!
//! This is a lexer, not an interpreter: it honours quotes, backslash escapes,
//! `$(…)`, `${…}` and backticks (kept inside their word, not split), comments,
//! the operators `&&`, `||`, `;`, `&`, `|`, `|&`, newlines and parentheses
//! (command boundaries), and redirections (`>`, `2>&1`, `<<EOF`…), whose
//! operator and target word are kept out of the command's words. It does not
//! expand variables, and does not look inside `$(…)` or `sh -c "…"` strings.

/// A word of a command, quotes removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The word with quotes and escapes removed (`$(…)`/`${…}` kept as written).
    pub value: String,
    /// Byte range in the split text, quotes included.
    pub range: (usize, usize),
}

/// A simple command: its words, and how it connects to the next command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Command {
    /// Words, redirections left out.
    pub words: Vec<Word>,
    /// Byte range of the command, redirections included.
    pub range: (usize, usize),
    /// Whether its output is piped (`|` or `|&`) into the next command.
    pub piped: bool,
    /// How many `<<`/`<<-` heredoc redirections it has.
    pub heredocs: usize,
}

#[derive(Default)]
struct State {
    commands: Vec<Command>,
    current: Command,
    has_tokens: bool,
    word: String,
    word_start: Option<usize>,
    /// Whether the word being read used quotes or escapes (so it is no fd number).
    word_quoted: bool,
    /// The next word is a redirection target, not an argument.
    redirect_target: bool,
    /// Open `case … esac` constructs.
    case_depth: usize,
    /// Reading `case` patterns (up to `)`), which are not commands.
    in_pattern: bool,
}

impl State {
    fn touch(&mut self, start: usize, end: usize) {
        if !self.has_tokens {
            self.current.range = (start, end);
            self.has_tokens = true;
        } else {
            self.current.range.1 = end;
        }
    }

    fn start_word(&mut self, i: usize) {
        if self.word_start.is_none() {
            self.word_start = Some(i);
        }
    }

    fn end_word(&mut self, end: usize) {
        let Some(start) = self.word_start.take() else {
            return;
        };
        let value = std::mem::take(&mut self.word);
        self.word_quoted = false;
        if self.case_depth > 0
            && value == "esac"
            && self.current.words.is_empty()
            && !self.redirect_target
        {
            self.case_depth -= 1;
            return;
        }
        self.touch(start, end);
        if self.redirect_target {
            self.redirect_target = false;
            return;
        }
        self.current.words.push(Word {
            value,
            range: (start, end),
        });
        let w = &self.current.words;
        if w.len() == 3
            && w.first().is_some_and(|x| x.value == "case")
            && w.get(2).is_some_and(|x| x.value == "in")
        {
            // `case WORD in`: what follows are patterns, then branches.
            self.current = Command::default();
            self.has_tokens = false;
            self.case_depth += 1;
            self.in_pattern = true;
        }
    }

    fn end_command(&mut self, end: usize, piped: bool) {
        self.end_word(end);
        if self.has_tokens {
            let mut c = std::mem::take(&mut self.current);
            c.piped = piped;
            self.commands.push(c);
        } else if piped {
            // `a | | b` and the like: keep the pipe on the previous command.
            if let Some(last) = self.commands.last_mut() {
                last.piped = true;
            }
        }
        self.current = Command::default();
        self.has_tokens = false;
        self.redirect_target = false;
    }
}

/// Splits shell text into simple commands.
pub fn split(text: &str) -> Vec<Command> {
    let b = text.as_bytes();
    let mut st = State::default();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if st.in_pattern {
            i = skip_pattern(text, i, &mut st);
            continue;
        }
        match c {
            b' ' | b'\t' | b'\r' => {
                st.end_word(i);
                i += 1;
            }
            b';' if st.case_depth > 0 && matches!(b.get(i + 1), Some(b';' | b'&')) => {
                // End of a `case` branch: patterns follow.
                st.end_command(i, false);
                i += 2;
                if b.get(i) == Some(&b'&') {
                    i += 1;
                }
                st.in_pattern = true;
            }
            b'\n' | b';' => {
                st.end_command(i, false);
                i += 1;
            }
            b'(' | b')' => {
                st.end_command(i, false);
                i += 1;
            }
            b'&' => {
                st.end_word(i);
                match b.get(i + 1) {
                    Some(b'&') => {
                        st.end_command(i, false);
                        i += 2;
                    }
                    Some(b'>') => {
                        let len = if b.get(i + 2) == Some(&b'>') { 3 } else { 2 };
                        st.touch(i, i + len);
                        st.redirect_target = true;
                        i += len;
                    }
                    _ => {
                        st.end_command(i, false);
                        i += 1;
                    }
                }
            }
            b'|' => match b.get(i + 1) {
                Some(b'|') => {
                    st.end_command(i, false);
                    i += 2;
                }
                Some(b'&') => {
                    st.end_command(i, true);
                    i += 2;
                }
                _ => {
                    st.end_command(i, true);
                    i += 1;
                }
            },
            b'<' | b'>' => {
                // A word of digits right before the operator is its fd number.
                let mut start = i;
                if let Some(ws) = st.word_start {
                    if !st.word_quoted
                        && !st.word.is_empty()
                        && st.word.bytes().all(|d| d.is_ascii_digit())
                    {
                        start = ws;
                        st.word_start = None;
                        st.word.clear();
                    } else {
                        st.end_word(i);
                    }
                }
                let rest = b.get(i..).unwrap_or(&[]);
                let (len, heredoc) = if rest.starts_with(b"<<<") {
                    (3, false)
                } else if rest.starts_with(b"<<-") {
                    (3, true)
                } else if rest.starts_with(b"<<") {
                    (2, true)
                } else if rest.starts_with(b">>")
                    || rest.starts_with(b">&")
                    || rest.starts_with(b">|")
                    || rest.starts_with(b"<&")
                    || rest.starts_with(b"<>")
                {
                    (2, false)
                } else {
                    (1, false)
                };
                if heredoc {
                    st.current.heredocs += 1;
                }
                st.touch(start, i + len);
                st.redirect_target = true;
                i += len;
            }
            b'#' if st.word_start.is_none() => {
                // A comment runs to the end of the line.
                while let Some(&d) = b.get(i) {
                    if d == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'\'' => {
                st.start_word(i);
                st.word_quoted = true;
                let end = find_byte(b, i + 1, b'\'').unwrap_or(b.len());
                st.word.push_str(text.get(i + 1..end).unwrap_or(""));
                i = (end + 1).min(b.len());
            }
            b'"' => {
                st.start_word(i);
                st.word_quoted = true;
                i = read_double_quoted(text, i + 1, &mut st.word);
            }
            b'\\' => {
                match text.get(i + 1..).and_then(|r| r.chars().next()) {
                    Some('\n') => {
                        // Line continuation: no word break.
                        i += 2;
                    }
                    Some(ch) => {
                        st.start_word(i);
                        st.word_quoted = true;
                        st.word.push(ch);
                        i += 1 + ch.len_utf8();
                    }
                    None => i += 1,
                }
            }
            b'$' if matches!(b.get(i + 1), Some(b'(' | b'{')) => {
                st.start_word(i);
                let end = skip_balanced(b, i + 1);
                st.word.push_str(text.get(i..end).unwrap_or(""));
                i = end;
            }
            b'`' => {
                st.start_word(i);
                let end = find_unescaped(b, i + 1, b'`').map_or(b.len(), |e| e + 1);
                st.word.push_str(text.get(i..end).unwrap_or(""));
                i = end;
            }
            _ => {
                st.start_word(i);
                let ch = text.get(i..).and_then(|r| r.chars().next()).unwrap_or(' ');
                st.word.push(ch);
                i += ch.len_utf8().max(1);
            }
        }
    }
    st.end_command(b.len(), false);
    st.commands
}

/// Skips `case` patterns from `i`: up to the `)` that ends them (then a
/// branch body follows) or an `esac` (the construct ends). Returns the index
/// to go on from.
fn skip_pattern(text: &str, mut i: usize, st: &mut State) -> usize {
    let b = text.as_bytes();
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'\r' | b'\n' | b'|' | b'(' => i += 1,
            b')' => {
                st.in_pattern = false;
                return i + 1;
            }
            b'\'' => i = find_byte(b, i + 1, b'\'').map_or(b.len(), |e| e + 1),
            b'"' => i = find_unescaped(b, i + 1, b'"').map_or(b.len(), |e| e + 1),
            b'\\' => i += 2,
            _ => {
                let start = i;
                while let Some(&d) = b.get(i) {
                    if matches!(d, b' ' | b'\t' | b'\r' | b'\n' | b'|' | b')' | b'(' | b';') {
                        break;
                    }
                    i += 1;
                }
                if text.get(start..i) == Some("esac") {
                    st.case_depth = st.case_depth.saturating_sub(1);
                    st.in_pattern = false;
                    return i;
                }
                if i == start {
                    i += 1;
                }
            }
        }
    }
    st.in_pattern = false;
    b.len()
}

fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|&c| c == needle)
        .map(|p| from + p)
}

fn find_unescaped(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    let mut i = from;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            i += 2;
            continue;
        }
        if c == needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// From the opening `(` or `{` at `open`, the index just past its match
/// (quotes inside skipped); the end of the text when unbalanced.
fn skip_balanced(b: &[u8], open: usize) -> usize {
    let (o, c) = match b.get(open) {
        Some(b'{') => (b'{', b'}'),
        _ => (b'(', b')'),
    };
    let mut depth = 0usize;
    let mut i = open;
    while let Some(&ch) = b.get(i) {
        match ch {
            b'\\' => {
                i += 2;
                continue;
            }
            b'\'' if o == b'(' => {
                i = find_byte(b, i + 1, b'\'').map_or(b.len(), |e| e + 1);
                continue;
            }
            b'"' => {
                i = find_unescaped(b, i + 1, b'"').map_or(b.len(), |e| e + 1);
                continue;
            }
            _ if ch == o => depth += 1,
            _ if ch == c => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// Reads a double-quoted string body from `i` (after the quote) into `out`;
/// returns the index after the closing quote.
fn read_double_quoted(text: &str, mut i: usize, out: &mut String) -> usize {
    let b = text.as_bytes();
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => return i + 1,
            b'\\' => match b.get(i + 1) {
                Some(b'"' | b'\\' | b'$' | b'`') => {
                    out.push(char::from(b.get(i + 1).copied().unwrap_or(b'\\')));
                    i += 2;
                }
                Some(b'\n') => i += 2,
                _ => {
                    out.push('\\');
                    i += 1;
                }
            },
            b'$' if matches!(b.get(i + 1), Some(b'(' | b'{')) => {
                let end = skip_balanced(b, i + 1);
                out.push_str(text.get(i..end).unwrap_or(""));
                i = end;
            }
            b'`' => {
                let end = find_unescaped(b, i + 1, b'`').map_or(b.len(), |e| e + 1);
                out.push_str(text.get(i..end).unwrap_or(""));
                i = end;
            }
            _ => {
                let ch = text.get(i..).and_then(|r| r.chars().next()).unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8().max(1);
            }
        }
    }
    b.len()
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Vec<String>> {
        split(text)
            .into_iter()
            .map(|c| c.words.into_iter().map(|w| w.value).collect())
            .collect()
    }

    #[test]
    fn operators_split_commands() {
        assert_eq!(
            words("apt-get update && apt-get install -y curl || true; echo 'a b'|wc -l\nls"),
            vec![
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "curl"],
                vec!["true"],
                vec!["echo", "a b"],
                vec!["wc", "-l"],
                vec!["ls"],
            ]
        );
    }

    #[test]
    fn pipes_are_marked() {
        let c = split("curl -fsSL https://x.sh | sh -; a |& b");
        assert!(c[0].piped && !c[1].piped && c[2].piped && !c[3].piped);
    }

    #[test]
    fn quotes_and_substitutions_stay_in_words() {
        assert_eq!(
            words(r#"echo "a && b" $(cat x; y) ${A:-b c} `d;e` \; x\ y"#),
            vec![vec![
                "echo",
                "a && b",
                "$(cat x; y)",
                "${A:-b c}",
                "`d;e`",
                ";",
                "x y"
            ]]
        );
    }

    #[test]
    fn redirections_are_not_words() {
        let c = split("make 2>&1 >/dev/null && cat <<EOF > /x && a 2 b");
        assert_eq!(c[0].words.len(), 1);
        assert_eq!(
            c[1].words
                .iter()
                .map(|w| w.value.as_str())
                .collect::<Vec<_>>(),
            vec!["cat"]
        );
        assert_eq!(c[1].heredocs, 1);
        assert_eq!(c[2].words.len(), 3);
        assert_eq!(c[0].range, (0, 20));
    }

    #[test]
    fn case_patterns_are_not_commands() {
        assert_eq!(
            words("case \"$a\" in amd64|arm64) x=1; echo a ;; i386) ;; *) exit 1 ;; esac; make\ncase $b in (x) y;; esac"),
            vec![vec!["x=1"], vec!["echo", "a"], vec!["exit", "1"], vec!["make"], vec!["y"]]
        );
        assert_eq!(words("case x in\n a) b\n esac"), vec![vec!["b"]]);
    }

    #[test]
    fn comments_and_continuations() {
        assert_eq!(
            words("a \\\n b # c && d\ne#f"),
            vec![vec!["a", "b"], vec!["e#f"]]
        );
    }
}
