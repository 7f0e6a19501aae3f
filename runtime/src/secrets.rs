//! What rampart calls a secret: the name vocabulary, the value-shape check,
//! credentials in URLs and secret arguments on command lines (STDLIB.md
//! § Shared vocabulary, docs/secrets.md). Every stdlib policy about secrets
//! and the redaction of outputs ask this module, so that "is this a secret"
//! has one answer.
//!
//! - [`is_secret_name`]: whether a variable name holds a secret
//!   (`POSTGRES_PASSWORD`, `DB_PASS`, `ENCRYPTION_KEY`, `COOKIE_SALT`…), not a
//!   setting about one (`PASSWORD_HASH_ALGO`, `MYSQL_RANDOM_ROOT_PASSWORD`,
//!   `API_TOKEN_EXPIRATION_YEARS`, `OAUTH_CLIENT_ID`…).
//! - [`value_shape`] / [`is_secret_value`]: whether a value can be a secret at
//!   all: booleans, numbers, durations, sizes, rates, paths, word lists,
//!   `null`, URLs without credentials and references are not.
//! - [`url_credentials`]: the password of `scheme://user:password@host`.
//! - [`command_secrets`]: `--requirepass X`, `--password=X`, `-pX` (MySQL),
//!   `-a X` (redis-cli), `NAME=X` with a secret-like name, in a command line.
//! - [`is_run_wide_secret`] / [`masks_span`]: what redaction does with a
//!   value found at a secret position.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

// ------------------------------------------------------------------ names

/// Words that make a name secret-like wherever they stand (`DB_PASSWORD`,
/// `PASSWORD_HASH`, `JWT_SECRET_KEY`, `SENTRY_DSN`).
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWORDS",
    "PASSWD",
    "PASS",
    "PWD",
    "PASSPHRASE",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "CREDENTIAL",
    "CREDENTIALS",
    "SALT",
    "DSN",
    "APIKEY",
    "PSK",
    "AUTH",
];

/// Suffixes of one word that make it a secret word (`WEBPASSWORD` of
/// Pi-hole, `DBPASSWORD`, `AUTHTOKEN`, `CLIENTSECRET`).
const SECRET_WORD_ENDINGS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "APIKEY",
];

/// One-word names ending in `PASS` that are passwords (`DBPASS`); other
/// words ending in `PASS` are not (`BYPASS`, `COMPASS`).
const PASS_PREFIXES: &[&str] = &[
    "DB", "PG", "ROOT", "ADMIN", "USER", "WEB", "SMTP", "MAIL", "REDIS", "MYSQL", "SQL", "FTP",
    "LDAP", "BIND", "RCON",
];

/// `KEY` is a secret after one of these words (`API_KEY`, `ENCRYPTION_KEY`,
/// `APP_KEY` of Laravel, `LICENSE_KEY`), or as the end of one of them in one
/// word (`SECRETKEY`); `GPG_KEY` (a public fingerprint), `SORT_KEY` or
/// `KEYBOARD` are not.
const KEY_QUALIFIERS: &[&str] = &[
    "API",
    "APP",
    "PRIVATE",
    "SECRET",
    "ENCRYPTION",
    "ENC",
    "ENCRYPT",
    "SIGNING",
    "SIGN",
    "MASTER",
    "SESSION",
    "JWT",
    "LICENSE",
    "LICENCE",
    "INSTALLATION",
    "HMAC",
    "CIPHER",
    "AES",
    "CRYPT",
    "CRYPTO",
    "ROLE",
    "SHARED",
    "ADMIN",
    "AUTH",
    "SERVICE",
    "WEBHOOK",
    "RPC",
];

/// `ACCESS_KEY` is the public half of an S3-style key pair (`AWS_ACCESS_KEY`
/// with `AWS_SECRET_KEY`, MinIO's `STORAGE_ACCESS_KEY` with
/// `STORAGE_SECRET_KEY`): the key id, not the secret. In a name holding one
/// of these words it is the secret itself (Azure's storage account key,
/// `AZURE_STORAGE_ACCESS_KEY`).
const SECRET_ACCESS_KEY_VENDORS: &[&str] = &["AZURE"];

/// Services speaking the Pusher protocol (Pusher, Soketi, Laravel Reverb):
/// their `APP_KEY` is public (it is sent to every browser to open the
/// socket); the `APP_SECRET` signs. Laravel's own `APP_KEY` stays a secret.
const PUBLIC_APP_KEY_VENDORS: &[&str] = &["PUSHER", "SOKETI", "REVERB"];

/// `AUTH` not at the end of a name is a secret only before one of these
/// (`AuthCode`, `REDIS_AUTH_STRING`); elsewhere it names a setting about
/// authentication (`ZULIP_AUTH_BACKENDS`, `NTFY_AUTH_DEFAULT_ACCESS`,
/// `AUTH_LDAP_USER_SEARCH`, `TS_AUTH_ONCE`).
const AUTH_SECRET_NEXT_WORDS: &[&str] = &["CODE", "STRING", "VALUE"];

/// A name whose last word is one of these holds something *about* a secret
/// (where it is, who uses it, how long it lives), not the secret.
const METADATA_LAST_WORDS: &[&str] = &[
    "FILE",
    "FILES",
    "PATH",
    "DIR",
    "FOLDER",
    "USER",
    "USERNAME",
    "USERS",
    "HOST",
    "HOSTNAME",
    "PORT",
    "METHOD",
    "METHODS",
    "URL",
    "URI",
    "URLS",
    "ENDPOINT",
    "DOMAIN",
    "ISSUER",
    "AUDIENCE",
    "TYPE",
    "MODE",
    "PROVIDER",
    "TIMEOUT",
    "TTL",
    "LIFETIME",
    "AGE",
    "LENGTH",
    "LEN",
    "SIZE",
    "ALGORITHM",
    "ALGORITHMS",
    "ALGO",
    "ALG",
    "VERSION",
    "REQUIRED",
    "ACTIVE",
    "ENABLED",
    "ENABLE",
    "DISABLED",
    "DISABLE",
    "NAME",
    "ID",
    "IDS",
    "SCOPE",
    "SCOPES",
    "LIMIT",
    "LIMITS",
    "COMPLEXITY",
    "STRENGTH",
    "YEARS",
    "YEAR",
    "MONTHS",
    "WEEKS",
    "DAYS",
    "HOURS",
    "MINUTES",
    "SECONDS",
    "MS",
    "ATTEMPTS",
    "RETRIES",
    "COUNT",
    "HEADER",
    "HEADERS",
    "PREFIX",
    "LOCATION",
    "POLICY",
    "SCHEME",
    "FORMAT",
    "LANGUAGE",
    "HINT",
    "REGEX",
    "PATTERN",
    "INTERVAL",
    "DELAY",
    "PERIOD",
    "DURATION",
    "TOKENS",
    "CACHE",
];

/// A name holding one of these words is a switch or a limit about a secret
/// (`MYSQL_ALLOW_EMPTY_PASSWORD`, `MYSQL_RANDOM_ROOT_PASSWORD` — the secure
/// setting —, `SECRET_ENABLE_FILE_UPLOAD`, `PASSWORD_MIN_LENGTH`).
const SWITCH_WORDS: &[&str] = &[
    "ALLOW", "ALLOWED", "ENABLE", "ENABLED", "DISABLE", "DISABLED", "RANDOM", "GENERATE", "MAX",
    "MIN", "SKIP",
];

/// The words of a name, upper-cased: camelCase humps and any character but
/// a letter or a digit separate them (`dbPassword` → `DB`, `PASSWORD`;
/// `sonar.jdbc.password` → `SONAR`, `JDBC`, `PASSWORD`).
pub fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.trim().chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_uppercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Whether `words[i]` makes the name secret-like, given the whole name's words.
fn is_secret_word(words: &[String], i: usize) -> bool {
    let Some(word) = words.get(i).map(String::as_str) else {
        return false;
    };
    let prev = i
        .checked_sub(1)
        .and_then(|j| words.get(j))
        .map(String::as_str);
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    if word == "AUTH" {
        return match words.get(i + 1) {
            None => true,
            Some(next) => AUTH_SECRET_NEXT_WORDS.contains(&next.as_str()),
        };
    }
    if SECRET_WORDS.contains(&word) {
        return true;
    }
    let key_after = |q: &str| match q {
        "ACCESS" => has(SECRET_ACCESS_KEY_VENDORS),
        "APP" => !has(PUBLIC_APP_KEY_VENDORS),
        _ => KEY_QUALIFIERS.contains(&q),
    };
    if word == "KEY" {
        return prev.is_some_and(key_after);
    }
    if SECRET_WORD_ENDINGS
        .iter()
        .any(|e| word.len() > e.len() && word.ends_with(e))
    {
        return true;
    }
    if let Some(head) = word.strip_suffix("KEY") {
        return key_after(head);
    }
    if let Some(head) = word.strip_suffix("PASS") {
        return PASS_PREFIXES.contains(&head);
    }
    false
}

/// Text one of which every secret word holds (any case): `PASS` covers the
/// `PASSWORD` family and `…PASS` words, `KEY` the `…_KEY`, `…KEY` and
/// `APIKEY` words. A name holding none is not secret-like.
const SECRET_NAME_MARKS: &[&str] = &[
    "PASS",
    "PWD",
    "SECRET",
    "TOKEN",
    "CREDENTIAL",
    "SALT",
    "DSN",
    "KEY",
    "PSK",
    "AUTH",
];

/// Whether `name` holds one of [`SECRET_NAME_MARKS`]: one search instead
/// of splitting every name (most are not secret-like: `image`, `listen`,
/// `PATH`) into words.
fn may_be_secret_name(name: &str) -> bool {
    static MARKS: OnceLock<Option<aho_corasick::AhoCorasick>> = OnceLock::new();
    MARKS
        .get_or_init(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(SECRET_NAME_MARKS)
                .ok()
        })
        .as_ref()
        .is_none_or(|m| m.is_match(name))
}

/// Whether a variable name is secret-like: one of its words is a secret word
/// (`PASSWORD`, `PASS`, `PWD`, `SECRET`, `TOKEN`, `SALT`, `DSN`, `AUTH`,
/// `CREDENTIALS`, `API_KEY`, `ENCRYPTION_KEY`, `PRIVATE_KEY`…), its last word
/// is not metadata (`_FILE`, `_USER`, `_NAME`, `_ID`, `_TTL`, `_EXPIR…`,
/// `_ALGO`, `_SCOPES`, `_LIMIT`…) and it holds no switch word (`ALLOW`,
/// `ENABLE`, `RANDOM`, `MAX`…). See docs/secrets.md.
pub fn is_secret_name(name: &str) -> bool {
    if !may_be_secret_name(name) {
        return false;
    }
    let words = name_words(name);
    let Some(last) = words.last().map(String::as_str) else {
        return false;
    };
    let secret_id = last == "ID" && words.len() >= 2 && {
        let before = words.get(words.len() - 2).map(String::as_str);
        before == Some("SECRET")
    };
    if !secret_id && (METADATA_LAST_WORDS.contains(&last) || last.starts_with("EXPIR")) {
        return false;
    }
    if words
        .iter()
        .any(|w| SWITCH_WORDS.contains(&w.as_str()) || w.starts_with("EXPIR"))
    {
        return false;
    }
    // `…_LOCAL_AUTH`, `…_ALWAYS_AUTH`: a switch for local (or forced) logins.
    if last == "AUTH" && words.len() >= 2 {
        let before = words.get(words.len() - 2).map(String::as_str);
        if matches!(before, Some("LOCAL" | "ALWAYS")) {
            return false;
        }
    }
    (0..words.len()).any(|i| is_secret_word(&words, i))
}

// ----------------------------------------------------------------- values

/// What a value is, as far as being a secret goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Could be a secret: nothing below.
    Secret,
    /// Empty or blank.
    Empty,
    /// `null`, `none`, `nil`, `undefined`, `~`, `invalid`, `unset`: unset.
    Null,
    /// `true`, `false`, `yes`, `no`, `on`, `off`, `enabled`…
    Boolean,
    /// A number (`40`, `0.5`); a run of 6 digits or more may be a PIN and is [`Shape::Secret`].
    Number,
    /// `30s`, `1h30m`, `7d`, `PT15M`.
    Duration,
    /// `10mb`, `512MiB`, `1G`.
    Size,
    /// `60/minute`, `100/s`, `10 per hour`.
    Rate,
    /// A file path: `/run/secrets/x`, `./key.pem`, `config/jwt/private.pem`.
    Path,
    /// A list of lower-case words: `bot,tx`, `read:user repo`.
    WordList,
    /// A URL without credentials.
    Url,
    /// An IP address or `host:port`.
    Address,
    /// A reference to another value: `${X}`, `$X`, `$(cat …)`, `{{ .X }}`, `%env(X)%`.
    Reference,
}

fn re(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

fn matches(cell: &'static OnceLock<Option<Regex>>, pattern: &str, text: &str) -> bool {
    re(cell, pattern).is_some_and(|r| r.is_match(text))
}

/// The longest value the shape check looks at closely; longer values are
/// secrets unless they are references, URLs or paths (keeps the regexes cheap).
const MAX_SHAPED_VALUE: usize = 4096;

/// `value` without one pair of matching quotes around it.
pub fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.trim();
        }
    }
    v
}

/// The shape of a value (quotes around it are ignored).
pub fn value_shape(value: &str) -> Shape {
    static REFERENCE: OnceLock<Option<Regex>> = OnceLock::new();
    static NUMBER: OnceLock<Option<Regex>> = OnceLock::new();
    static DURATION: OnceLock<Option<Regex>> = OnceLock::new();
    static SIZE: OnceLock<Option<Regex>> = OnceLock::new();
    static RATE: OnceLock<Option<Regex>> = OnceLock::new();
    static ADDRESS: OnceLock<Option<Regex>> = OnceLock::new();
    static REL_PATH: OnceLock<Option<Regex>> = OnceLock::new();
    static WORD: OnceLock<Option<Regex>> = OnceLock::new();
    let v = unquote(value);
    if v.is_empty() {
        return Shape::Empty;
    }
    let lower = v.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "null"
            | "none"
            | "nil"
            | "undefined"
            | "~"
            | "<none>"
            | "<null>"
            | "invalid"
            | "unset"
            | "n/a"
    ) {
        return Shape::Null;
    }
    if matches!(
        lower.as_str(),
        "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "enabled"
            | "disabled"
            | "enable"
            | "disable"
    ) {
        return Shape::Boolean;
    }
    if matches(
        &REFERENCE,
        r"^(\$\{[^{}]*\}|\$\$?\{[^{}]*\}|\$\$?[A-Za-z_][A-Za-z0-9_]*|\$\(.*\)|\{\{.*\}\}|%env\([^()]*\)%|#\{[^{}]*\}|<%=?.*%>)$",
        v,
    ) {
        return Shape::Reference;
    }
    if v.contains("://") && !v.contains(char::is_whitespace) {
        return if url_credentials(v)
            .into_iter()
            .any(|r| v.get(r).is_some_and(|c| value_shape(c) == Shape::Secret))
        {
            Shape::Secret
        } else {
            Shape::Url
        };
    }
    if is_path(v) {
        return Shape::Path;
    }
    if v.len() > MAX_SHAPED_VALUE {
        return Shape::Secret;
    }
    if matches(&NUMBER, r"^[+-]?[0-9]+(\.[0-9]+)?$", v) {
        // A long run of digits may be a PIN or a numeric password.
        let digits = v.chars().filter(char::is_ascii_digit).count();
        return if digits >= 6 && v.chars().all(|c| c.is_ascii_digit()) {
            Shape::Secret
        } else {
            Shape::Number
        };
    }
    if matches(
        &DURATION,
        r"(?i)^([0-9]+(\.[0-9]+)?\s*(ns|us|µs|ms|s|sec|secs|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mo|months?|y|yrs?|years?)\s*)+$|^P(T?[0-9]+[YMWDHS])+$",
        v,
    ) {
        return Shape::Duration;
    }
    if matches(
        &SIZE,
        r"(?i)^[0-9]+(\.[0-9]+)?\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)$",
        v,
    ) {
        return Shape::Size;
    }
    if matches(
        &RATE,
        r"(?i)^[0-9]+(\.[0-9]+)?\s*(/|per\s+)\s*([0-9]+\s*)?[a-z]+$",
        v,
    ) {
        return Shape::Rate;
    }
    if matches(
        &ADDRESS,
        r"^([0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?|\[[0-9a-fA-F:]+\]|(localhost|[0-9]{1,3}(\.[0-9]{1,3}){3}|[a-z][a-z0-9.-]*):[0-9]{1,5})$",
        v,
    ) {
        return Shape::Address;
    }
    if matches(
        &REL_PATH,
        r"(?i)^[A-Za-z0-9_.@-]+(/[A-Za-z0-9_.@-]+)+\.(pem|key|crt|cer|der|json|txt|p12|pfx|jks|keystore|ya?ml|env|conf|cfg|ini|toml|xml|gpg|asc|pub|secret)$",
        v,
    ) {
        return Shape::Path;
    }
    let word = |w: &str| matches(&WORD, r"^[a-z][a-z0-9_.:/*-]{0,39}$", w);
    let items: Vec<&str> = v.split(',').map(str::trim).collect();
    if items.len() >= 2 && items.iter().all(|w| word(w)) {
        return Shape::WordList;
    }
    let items: Vec<&str> = v.split_whitespace().collect();
    if items.len() >= 2
        && items.iter().all(|w| word(w))
        && items.iter().any(|w| w.contains([':', '.', '/']))
    {
        return Shape::WordList;
    }
    Shape::Secret
}

/// Whether one path segment looks generated (long, mixing upper case, lower
/// case and digits): a base64 secret that starts with `/` is not a path.
fn random_looking(segment: &str) -> bool {
    segment.len() >= 16
        && segment.chars().any(|c| c.is_ascii_uppercase())
        && segment.chars().any(|c| c.is_ascii_lowercase())
        && segment.chars().any(|c| c.is_ascii_digit())
}

/// An absolute, home, relative (`./`, `../`) or variable-rooted
/// (`%kernel.project_dir%/…`, `${DIR}/…`) path without blanks and without a
/// generated-looking segment.
fn is_path(v: &str) -> bool {
    let rooted = v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || (v.starts_with('%') && v.get(1..).and_then(|r| r.find("%/")).is_some())
        || (v.starts_with("${") && v.contains("}/"))
        || v.get(..3).is_some_and(|p| {
            p.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && p.get(1..) == Some(":\\")
        });
    rooted
        && !v.contains(char::is_whitespace)
        && v.split(['/', '\\']).filter(|s| !s.is_empty()).count() >= 1
        && !v.split(['/', '\\']).any(random_looking)
}

/// Whether a value can be a secret ([`value_shape`] is [`Shape::Secret`]).
pub fn is_secret_value(value: &str) -> bool {
    value_shape(value) == Shape::Secret
}

/// Values at least this many characters long found at a secret position are
/// searched for everywhere in the run's output (see [`is_run_wide_secret`]).
pub const MIN_RUN_WIDE_SECRET_CHARS: usize = 6;

/// A word (or lower-case words joined by `-`, `_`, `.`) shorter than this is
/// a plain word (`nextcloud`, `db_dev`), never a run-wide mask pattern.
const PLAIN_WORD_MAX_CHARS: usize = 16;

/// Whether a value is an ordinary word, shorter than 16 characters: letters
/// of one case (`postgres`, `ROOTPW`, `Secret`), or lower-case words joined
/// by `-`, `_` or `.` (`db_dev`, `my-app`). As a password it is
/// weak and public; as a mask pattern it would hide service, image and
/// network names.
pub fn is_plain_word(value: &str) -> bool {
    let v = unquote(value);
    if v.is_empty() {
        return false;
    }
    if v.len() >= PLAIN_WORD_MAX_CHARS {
        return false;
    }
    let letters = v.chars().all(|c| c.is_ascii_alphabetic());
    if letters {
        let rest_lower = v.chars().skip(1).all(|c| c.is_ascii_lowercase());
        let all_upper = v.chars().all(|c| c.is_ascii_uppercase());
        return rest_lower || all_upper;
    }
    v.chars()
        .all(|c| c.is_ascii_lowercase() || matches!(c, '-' | '_' | '.'))
        && v.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

/// Whether a value found at a secret position becomes a run-wide mask
/// pattern (every occurrence in every output is redacted): it has the shape
/// of a secret, is at least [`MIN_RUN_WIDE_SECRET_CHARS`] characters long and
/// is not a plain word ([`is_plain_word`]).
pub fn is_run_wide_secret(value: &str) -> bool {
    is_run_wide_given(value, None)
}

/// [`is_run_wide_secret`], given what [`value_shape`] says of `value` when
/// that is known: it is the shape of the unquoted value too unless that
/// value is quoted once more.
pub fn is_run_wide_given(value: &str, shape: Option<Shape>) -> bool {
    let v = unquote(value);
    if v.chars().count() < MIN_RUN_WIDE_SECRET_CHARS {
        return false;
    }
    let shape = match shape {
        Some(shape) if unquote(v).len() == v.len() => shape,
        _ => value_shape(v),
    };
    shape == Shape::Secret && !is_plain_word(v)
}

/// [`masks_span`] of a value of this shape.
pub fn masks_shape(shape: Shape) -> bool {
    matches!(shape, Shape::Secret | Shape::Number | Shape::WordList)
}

/// Whether a value found at a secret position is masked where it is written
/// (its own span in snippets): any value with the shape of a secret, however
/// short, and numbers and word lists too (`PASSWORD=1234` may be a PIN) —
/// never booleans, `null`, paths, URLs without credentials or references.
pub fn masks_span(value: &str) -> bool {
    masks_shape(value_shape(value))
}

// ------------------------------------------------------------------- URLs

/// A userinfo without a password (`https://TOKEN@host`) is a credential
/// (an access token) when it is at least this long; shorter ones are user
/// names (`ssh://git@host`).
pub const MIN_TOKEN_USERINFO: usize = 12;

/// The byte ranges of the credentials of every URL in `text`: the password
/// of `scheme://user:password@host`, or the whole userinfo of
/// `scheme://TOKEN@host` (a token of at least [`MIN_TOKEN_USERINFO`] bytes).
/// Linear in the text.
pub fn url_credentials(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    // Most values hold no `:` at all, and most that do (ports, image tags,
    // URLs without credentials) no `@`: two byte searches before the `://` one.
    if !text.contains(':') || !text.contains('@') {
        return found;
    }
    let mut from = 0;
    while let Some(at) = text.get(from..).and_then(|t| t.find("://")) {
        let start = from + at + 3;
        let rest = text.get(start..).unwrap_or("");
        let authority_end = authority_len(rest);
        from = start + authority_end;
        let authority = rest.get(..authority_end).unwrap_or("");
        let Some(userinfo_end) = authority.rfind('@') else {
            continue;
        };
        let userinfo = authority.get(..userinfo_end).unwrap_or("");
        match userinfo_colon(userinfo) {
            Some(colon) if colon + 1 < userinfo.len() => {
                found.push(start + colon + 1..start + userinfo_end);
            }
            None if userinfo.len() >= MIN_TOKEN_USERINFO => {
                found.push(start..start + userinfo_end);
            }
            _ => {}
        }
    }
    found
}

/// The `:` between user and password in a userinfo, not one inside a
/// `${USER:-default}` reference.
fn userinfo_colon(userinfo: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut prev = ' ';
    for (i, c) in userinfo.char_indices() {
        match c {
            '{' if prev == '$' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            ':' if depth == 0 => return Some(i),
            _ => {}
        }
        prev = c;
    }
    None
}

/// The credentials of the URLs in `text` that are literal secrets (not a
/// reference such as `${DB_PASSWORD}`, see [`value_shape`]).
pub fn literal_url_credentials(text: &str) -> Vec<Range<usize>> {
    url_credentials(text)
        .into_iter()
        .filter(|r| text.get(r.clone()).is_some_and(is_secret_value))
        .collect()
}

/// Passwords that mark a URL's credentials as a placeholder (besides the weak
/// values of [`WEAK_VALUES`], contained anywhere, and the user name repeated):
/// `postgresql://placeholder:placeholder@localhost:5432/placeholder`,
/// `postgresql://user:pass@localhost:5432/dummy`.
const PLACEHOLDER_PASSWORDS: &[&str] = &[
    "placeholder",
    "dummy",
    "pass",
    "pw",
    "pwd",
    "build",
    "fake",
    "sample",
    "xxx",
    "xxxx",
    "xxxxxx",
    "foo",
    "bar",
    "user",
];

/// Hosts that are the machine itself: in an image, a database there is one
/// the container would have to run itself.
const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0"];

/// Whether `text` holds URL credentials and every literal one is a dummy: a
/// placeholder password ([`PLACEHOLDER_PASSWORDS`], a weak value such as
/// `password` or `changeme`, or the user name repeated: `build:build`) for a
/// server on the loopback host (`localhost`, `127.0.0.1`). Build steps need
/// such a URL to be set (`prisma generate`, `next build`) though nothing
/// connects to it; it holds no secret. A real-looking password, or any
/// other host, is not a dummy.
pub fn is_dummy_url(text: &str) -> bool {
    let creds = literal_url_credentials(text);
    !creds.is_empty()
        && creds.iter().all(|r| {
            let Some(password) = text.get(r.clone()) else {
                return false;
            };
            // The URL around the password: back to `://`, on to the host's end.
            let before = text.get(..r.start).unwrap_or("");
            let user = before
                .rfind("://")
                .and_then(|s| before.get(s + 3..))
                .and_then(|u| u.strip_suffix(':'))
                .unwrap_or("");
            let after = text.get(r.end..).unwrap_or("");
            let Some(authority) = after.strip_prefix('@') else {
                return false;
            };
            let host_port = authority.get(..authority_len(authority)).unwrap_or("");
            let host = if host_port.starts_with('[') {
                host_port.split_inclusive(']').next().unwrap_or("")
            } else {
                host_port.split(':').next().unwrap_or("")
            };
            let pw = password.to_ascii_lowercase();
            let weak: Vec<String> = WEAK_VALUES.iter().map(|w| (*w).to_string()).collect();
            let placeholder = pw.eq_ignore_ascii_case(user)
                || PLACEHOLDER_PASSWORDS.contains(&pw.as_str())
                || is_placeholder(&pw, "", &weak);
            placeholder && LOOPBACK_HOSTS.contains(&host.to_ascii_lowercase().as_str())
        })
}

/// The credentials of the URLs in `text` that are masked in outputs: all
/// but references (`postgres://app:${DB_PASSWORD}@db` stays readable).
pub fn masked_url_credentials(text: &str) -> Vec<Range<usize>> {
    url_credentials(text)
        .into_iter()
        .filter(|r| {
            text.get(r.clone())
                .is_some_and(|c| value_shape(c) != Shape::Reference)
        })
        .collect()
}

/// The length of a URL's authority (`user:password@host:port`) at the start
/// of `rest`: up to `/`, `?`, `#`, white space, a quote or an angle bracket —
/// one escaped with a backslash (`\"` inside a quoted nginx string) does not
/// end it. Characters legal in a userinfo (`;`, `,`, brackets, braces) do not
/// end it either, so a password holding them is found whole.
fn authority_len(rest: &str) -> usize {
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '/' | '?' | '#' | '"' | '\'' | '`' | '<' | '>' => return i,
            c if c.is_whitespace() => return i,
            _ => {}
        }
    }
    rest.len()
}

// --------------------------------------------------------------- commands

/// Options whose argument is a secret whatever the program (`redis-server
/// --requirepass X`, `--masterauth X`); any other long option is one when its
/// name is secret-like (`--password`, `--db-password`, `--api-key`).
const SECRET_OPTIONS: &[&str] = &["requirepass", "masterauth", "pass", "passwd", "pwd"];

/// Programs whose `-p` takes the password attached (`mysqladmin -psecret`;
/// `-p secret` prompts and names the database `secret`).
const MYSQL_PROGRAMS: &[&str] = &[
    "mysql",
    "mysqladmin",
    "mysqldump",
    "mysqlcheck",
    "mysqlshow",
    "mysqlimport",
    "mariadb",
    "mariadb-admin",
    "mariadb-dump",
    "mariadb-check",
];

/// Programs whose short option takes the password as the next word
/// (`redis-cli -a X`, `mongosh -p X`).
const SHORT_PASSWORD_OPTIONS: &[(&str, &str)] = &[
    ("redis-cli", "-a"),
    ("valkey-cli", "-a"),
    ("keydb-cli", "-a"),
    ("mongo", "-p"),
    ("mongosh", "-p"),
];

/// A literal secret found on a command line: the option (or variable) that
/// carries it and the byte range of the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSecret {
    /// `--requirepass`, `-p`, `-a`, `MYSQL_PWD=`, `-u` (curl's `user:password`).
    pub option: String,
    /// Where the secret is in the text.
    pub range: Range<usize>,
}

/// The words of a command line with their byte ranges: separated by blanks,
/// commas and brackets (the list form as written), quotes stripped.
fn command_words(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let sep = |c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | ';' | '(' | ')');
    for (i, c) in text.char_indices() {
        if sep(c) {
            if let Some(s) = start.take() {
                out.push(s..i);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(s..text.len());
    }
    out.into_iter()
        .filter_map(|r| {
            let raw = text.get(r.clone())?;
            let lead = raw.len() - raw.trim_start_matches(['"', '\'', '\\']).len();
            let trail = raw.len() - raw.trim_end_matches(['"', '\'', '\\']).len();
            let r = r.start + lead..r.end.saturating_sub(trail).max(r.start + lead);
            let w = text.get(r.clone())?;
            (!w.is_empty()).then_some((r, w))
        })
        .collect()
}

/// Whether `text` can hold a secret [`command_secrets`] finds: each is
/// after `NAME=`, a `--` option or a program it knows, and its words are
/// pieces of the text, so one of those is written in it. Most lines a file's
/// snippets are masked over hold none (one search instead of splitting them).
fn may_hold_command_secret(text: &str) -> bool {
    static MARKS: OnceLock<Option<aho_corasick::AhoCorasick>> = OnceLock::new();
    MARKS
        .get_or_init(|| {
            let programs = MYSQL_PROGRAMS
                .iter()
                .chain(SHORT_PASSWORD_OPTIONS.iter().map(|(p, _)| p))
                .chain(&["curl", "wget"]);
            aho_corasick::AhoCorasick::new(["=", "--"].iter().chain(programs)).ok()
        })
        .as_ref()
        .is_none_or(|m| m.is_match(text))
}

/// The program name of a word (`/usr/bin/redis-cli` → `redis-cli`).
fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Literal secrets passed on a command line (a compose `command:`,
/// `entrypoint:` or healthcheck `test:`, string or list form as written or
/// joined): `--requirepass X`, `--password=X`, any `--<secret-like name>`,
/// `-pX` after a MySQL program, `-a X` after redis-cli, `-p X` after mongosh,
/// curl's `-u user:password`, and `NAME=X` with a secret-like `NAME`.
/// References (`$$REDIS_PASSWORD`, `${X}`, `$(cat /run/secrets/x)`) and
/// values that cannot be secrets ([`is_secret_value`]) are not reported.
pub fn command_secrets(text: &str) -> Vec<CommandSecret> {
    if !may_hold_command_secret(text) {
        return Vec::new();
    }
    let words = command_words(text);
    let mut out = Vec::new();
    let mut prog = "";
    let push = |option: &str, range: Range<usize>, out: &mut Vec<CommandSecret>| {
        // Quotes inside a word (`PGPASSWORD='x'`, `--password="x"`) are not the value's.
        let raw = text.get(range.clone()).unwrap_or("");
        let lead = raw.len() - raw.trim_start_matches(['"', '\'']).len();
        let trail = raw.len() - raw.trim_end_matches(['"', '\'']).len();
        let range = range.start + lead..range.end.saturating_sub(trail).max(range.start + lead);
        let value = text.get(range.clone()).unwrap_or("");
        if is_secret_value(value) && !value.starts_with('$') {
            out.push(CommandSecret {
                option: option.to_string(),
                range,
            });
        }
    };
    let mut i = 0;
    while let Some((r, w)) = words.get(i).cloned() {
        i += 1;
        if !w.starts_with('-') {
            if let Some((name, _)) = w.split_once('=') {
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && is_secret_name(name)
                {
                    let from = r.start + name.len() + 1;
                    push(&format!("{name}="), from..r.end, &mut out);
                    continue;
                }
            }
            if matches!(w, "&&" | "||" | "|") {
                prog = "";
            } else if is_known_program(program(w)) {
                prog = program(w);
            }
            continue;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let secret = SECRET_OPTIONS.contains(&name.to_ascii_lowercase().as_str())
                || is_secret_name(&name.replace('-', "_"));
            let curl_user = name == "user" && matches!(prog, "curl" | "wget");
            if !(secret || curl_user) {
                continue;
            }
            let value = match attached {
                Some(v) => {
                    let from = r.end - v.len();
                    Some(from..r.end)
                }
                None => words
                    .get(i)
                    .filter(|(_, n)| !n.starts_with("--"))
                    .map(|(nr, _)| {
                        i += 1;
                        nr.clone()
                    }),
            };
            if let Some(v) = value {
                if curl_user {
                    if let Some(range) = userinfo_password(text, v) {
                        push(&format!("--{name}"), range, &mut out);
                    }
                } else {
                    push(&format!("--{name}"), v, &mut out);
                }
            }
            continue;
        }
        if MYSQL_PROGRAMS.contains(&prog) {
            if let Some(v) = w.strip_prefix("-p").filter(|v| !v.is_empty()) {
                push("-p", r.end - v.len()..r.end, &mut out);
                continue;
            }
        }
        if prog == "curl" && w == "-u" {
            if let Some((nr, _)) = words.get(i) {
                if let Some(range) = userinfo_password(text, nr.clone()) {
                    push("-u", range, &mut out);
                }
                i += 1;
            }
            continue;
        }
        if SHORT_PASSWORD_OPTIONS
            .iter()
            .any(|(p, o)| *p == prog && *o == w)
        {
            if let Some((nr, _)) = words.get(i) {
                push(w, nr.clone(), &mut out);
                i += 1;
            }
        }
    }
    out
}

/// Whether a program is one whose options [`command_secrets`] knows.
fn is_known_program(p: &str) -> bool {
    MYSQL_PROGRAMS.contains(&p)
        || SHORT_PASSWORD_OPTIONS.iter().any(|(q, _)| *q == p)
        || matches!(p, "curl" | "wget")
}

/// The password part of a `user:password` word at `range` of `text`.
fn userinfo_password(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let w = text.get(range.clone())?;
    let colon = w.find(':')?;
    (colon + 1 < w.len()).then(|| range.start + colon + 1..range.end)
}

// ------------------------------------------------------- weak values, display

/// The default list of weak or placeholder values.
pub const WEAK_VALUES: &[&str] = &[
    "admin",
    "admin123",
    "password",
    "passw0rd",
    "changeme",
    "change_me",
    "change-me",
    "change_this",
    "secret",
    "default",
    "example",
    "test",
    "123456",
    "qwerty",
    "letmein",
    "your-secret-key-here",
];

/// Whether `value` is a placeholder: equal to or containing a weak value, an
/// `sk-your-…` key, or the variable's own name. Empty values are not (they are
/// "required, not set").
pub fn is_placeholder(value: &str, name: &str, weak: &[String]) -> bool {
    let v = value.trim().to_ascii_lowercase();
    if v.is_empty() {
        return false;
    }
    if weak
        .iter()
        .any(|w| !w.is_empty() && v.contains(&w.to_ascii_lowercase()))
    {
        return true;
    }
    if v.starts_with("sk-your-") || v.starts_with("pk-your-") {
        return true;
    }
    !name.is_empty() && v == name.trim().to_ascii_lowercase()
}

/// Whether `value` is weak: a placeholder, or non-empty and shorter than `min_len` characters.
pub fn is_weak_secret(value: &str, name: &str, weak: &[String], min_len: i64) -> bool {
    let len = i64::try_from(value.chars().count()).unwrap_or(i64::MAX);
    is_placeholder(value, name, weak) || (len > 0 && len < min_len)
}

/// Redacts a secret for display: the first two and last two characters
/// around `****` (8 characters), or `********` for values under 8 characters.
pub fn redact(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 8 {
        return "********".into();
    }
    let head: String = chars.iter().take(2).collect();
    let tail: String = chars.iter().skip(chars.len() - 2).collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests;
