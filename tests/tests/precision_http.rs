//! `http.https-redirect` and `http.server-version-hidden` where they apply
//! (issue 11, item 4), end to end over small repositories built from real
//! files: a plain-HTTP listener that only a proxy reaches (its compose
//! service publishes nothing, or only loopback — also when a compose fragment
//! mounts it relative to the project directory above) is no finding, one
//! published on the host is; a listener on the platform's `PORT` is not
//! judged, one on another variable is; a site file inherits `server_tokens
//! off` from the main configuration above it or from a linuxserver.io nginx
//! image, a lone one does not. The file ends with one redaction case of issue 11's acceptance
//! list (identifiers equal to secret values stay unmasked in every format).

use rampart_tests::{findings, json, rampart, write};

fn check(dir: &std::path::Path) -> Vec<(String, u64, String)> {
    let (_, out, err) = rampart(dir, &["check", "--format", "json", "repo"]);
    let v = json(&out);
    assert!(v.is_object(), "{out}{err}");
    findings(&v)
}

fn of(fs: &[(String, u64, String)], policy: &str) -> Vec<(u64, String)> {
    fs.iter()
        .filter(|(p, _, _)| p == policy)
        .map(|(_, l, m)| (*l, m.clone()))
        .collect()
}

/// nextcloud/docker `.examples/docker-compose/with-nginx-proxy/…/web/nginx.conf`
/// (trimmed): a plain-HTTP nginx in front of php-fpm.
const NEXTCLOUD_NGINX: &str = "worker_processes auto;\nevents {\n    worker_connections 1024;\n}\nhttp {\n    upstream php-handler {\n        server app:9000;\n    }\n    server {\n        listen 80;\n        location ~ \\.php(?:$|/) {\n            fastcgi_pass php-handler;\n        }\n        location / {\n            try_files $uri $uri/ /index.php$request_uri;\n        }\n    }\n}\n";

/// The `web` service of that example: the config is mounted, no `ports:`;
/// nginx-proxy (published) terminates TLS in front of it.
const BEHIND_PROXY: &str = "services:\n  web:\n    image: nginx:alpine-slim\n    restart: always\n    volumes:\n      - ./web/nginx.conf:/etc/nginx/nginx.conf:ro\n    environment:\n      - VIRTUAL_HOST=cloud.example.com\n    networks:\n      - proxy-tier\n  proxy:\n    image: nginxproxy/nginx-proxy:1.6\n    ports:\n      - 80:80\n      - 443:443\n    networks:\n      - proxy-tier\nnetworks:\n  proxy-tier:\n";

#[test]
fn a_listener_only_a_proxy_reaches_gets_no_redirect_finding() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "repo/compose.yaml", BEHIND_PROXY);
    write(d.path(), "repo/web/nginx.conf", NEXTCLOUD_NGINX);
    let fs = check(d.path());
    assert!(of(&fs, "http.https-redirect").is_empty(), "{fs:#?}");
}

#[test]
fn the_same_listener_published_on_the_host_is_reported() {
    // docker/awesome-compose style: the proxy itself is published as 80:80.
    let d = tempfile::tempdir().unwrap();
    let published = BEHIND_PROXY.replace(
        "    restart: always\n",
        "    restart: always\n    ports:\n      - \"80:80\"\n",
    );
    write(d.path(), "repo/compose.yaml", &published);
    write(d.path(), "repo/web/nginx.conf", NEXTCLOUD_NGINX);
    let fs = check(d.path());
    let found = of(&fs, "http.https-redirect");
    assert_eq!(found.len(), 1, "{fs:#?}");
    assert!(
        found[0]
            .1
            .ends_with("; compose service `web` (repo/compose.yaml) publishes it (`80:80`)"),
        "{found:?}"
    );
    // Published only on loopback (nextcloud's `insecure` example): not judged.
    let loopback = BEHIND_PROXY.replace(
        "    restart: always\n",
        "    restart: always\n    ports:\n      - 127.0.0.1:8080:80\n",
    );
    write(d.path(), "repo/compose.yaml", &loopback);
    assert!(of(&check(d.path()), "http.https-redirect").is_empty());
}

#[test]
fn a_config_copied_into_a_built_image_follows_its_service() {
    // tiangolo/full-stack-fastapi-template: frontend/Dockerfile copies
    // nginx.conf; the service is reached through Traefik only.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "repo/frontend/Dockerfile",
        "FROM node:20 AS build-stage\nWORKDIR /app\nCOPY . /app/\nRUN npm run build\n\nFROM nginx:1\nCOPY --from=build-stage /app/dist/ /usr/share/nginx/html\nCOPY ./nginx.conf /etc/nginx/conf.d/default.conf\n",
    );
    write(
        d.path(),
        "repo/frontend/nginx.conf",
        "server {\n  listen 80;\n\n  location / {\n    root /usr/share/nginx/html;\n    index index.html index.htm;\n    try_files $uri /index.html =404;\n  }\n}\n",
    );
    write(
        d.path(),
        "repo/docker-compose.yml",
        "services:\n  frontend:\n    image: 'frontend:latest'\n    restart: always\n    build:\n      context: ./frontend\n    labels:\n      - traefik.enable=true\n      - traefik.http.routers.frontend-https.tls=true\n",
    );
    assert!(of(&check(d.path()), "http.https-redirect").is_empty());
    // A lone copy of the same file (no service runs it) is judged on its own.
    let lone = tempfile::tempdir().unwrap();
    write(
        lone.path(),
        "repo/nginx.conf",
        "server {\n  listen 80;\n  location / { root /usr/share/nginx/html; }\n}\n",
    );
    assert_eq!(of(&check(lone.path()), "http.https-redirect").len(), 1);
}

#[test]
fn a_site_file_inherits_server_tokens_off_from_its_main_config() {
    // h5bp/server-configs-nginx: nginx.conf includes h5bp/basic.conf, which
    // sets `server_tokens off`; conf.d/templates/*.conf are copied into
    // conf.d/ by hand.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "repo/nginx.conf",
        "user www-data;\nevents {\n  worker_connections 8000;\n}\nhttp {\n  include h5bp/basic.conf;\n  include conf.d/*.conf;\n}\n",
    );
    write(d.path(), "repo/h5bp/basic.conf", "server_tokens off;\n");
    write(
        d.path(),
        "repo/conf.d/templates/example.com.conf",
        "server {\n  listen [::]:443 ssl;\n  listen 443 ssl;\n  server_name example.com;\n  root /var/www/example.com/public;\n}\n",
    );
    let fs = check(d.path());
    assert!(of(&fs, "http.server-version-hidden").is_empty(), "{fs:#?}");
    // The same site file alone (the stock image's main config shows the version).
    let lone = tempfile::tempdir().unwrap();
    write(
        lone.path(),
        "repo/conf.d/example.com.conf",
        "server {\n  listen 443 ssl;\n  server_name example.com;\n}\n",
    );
    assert_eq!(
        of(&check(lone.path()), "http.server-version-hidden").len(),
        1
    );
}

#[test]
fn a_site_file_for_linuxserver_images_inherits_server_tokens_off() {
    // linuxserver/docker-swag root/defaults/nginx/site-confs/default.conf.sample (trimmed).
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "repo/site-confs/default.conf.sample",
        "server {\n    listen 443 ssl default_server;\n    listen [::]:443 ssl default_server;\n    server_name _;\n    include /config/nginx/ssl.conf;\n    root /config/www;\n    location / {\n        try_files $uri $uri/ /index.html /index.htm /index.php$is_args$args;\n    }\n}\n",
    );
    let fs = check(d.path());
    assert!(of(&fs, "http.server-version-hidden").is_empty(), "{fs:#?}");
}

/// authelia/authelia `internal/suites/example/compose/nginx/backend/compose.yml`
/// (trimmed): a compose fragment the suites combine with `-f`, so its mounts
/// are relative to the project directory `internal/suites`, not its own.
const AUTHELIA_BACKEND: &str = "---\nservices:\n  nginx-backend:\n    image: 'nginx:1.31.4-alpine'\n    labels:\n      traefik.enable: 'true'\n      traefik.http.routers.protectedapps.entrypoints: 'https'\n      traefik.http.routers.protectedapps.tls: 'true'\n    volumes:\n      - './example/compose/nginx/backend/html:/usr/share/nginx/html'\n      - './example/compose/nginx/backend/nginx.conf:/etc/nginx/nginx.conf'\n    networks:\n      authelianet: {}\n...\n";

/// Its nginx.conf (two of its eight plain-HTTP servers).
const AUTHELIA_BACKEND_NGINX: &str = "worker_processes  1;\n\nevents {\n    worker_connections  1024;\n}\n\nhttp {\n    server {\n        listen 80;\n        root /usr/share/nginx/html/home;\n        server_name ~^home\\.example([0-9])*\\.com$;\n    }\n\n    server {\n        listen 80;\n        root /usr/share/nginx/html/public;\n        server_name ~^public\\.example([0-9])*\\.com$;\n    }\n}\n";

#[test]
fn a_fragment_mount_relative_to_the_project_directory_links_its_service() {
    let d = tempfile::tempdir().unwrap();
    let dir = "repo/internal/suites/example/compose/nginx/backend";
    write(d.path(), &format!("{dir}/compose.yml"), AUTHELIA_BACKEND);
    write(
        d.path(),
        &format!("{dir}/nginx.conf"),
        AUTHELIA_BACKEND_NGINX,
    );
    write(
        d.path(),
        &format!("{dir}/html/home/index.html"),
        "<p>home</p>\n",
    );
    let fs = check(d.path());
    assert!(of(&fs, "http.https-redirect").is_empty(), "{fs:#?}");
    // The same fragment publishing the listener: reported, naming the service.
    let d = tempfile::tempdir().unwrap();
    let published =
        AUTHELIA_BACKEND.replace("    volumes:", "    ports:\n      - '80:80'\n    volumes:");
    write(d.path(), &format!("{dir}/compose.yml"), &published);
    write(
        d.path(),
        &format!("{dir}/nginx.conf"),
        AUTHELIA_BACKEND_NGINX,
    );
    let fs = check(d.path());
    let found = of(&fs, "http.https-redirect");
    assert_eq!(found.len(), 2, "{fs:#?}");
    assert!(
        found.iter().all(|(_, m)| m.contains("`nginx-backend`")),
        "{found:?}"
    );
}

/// 0xHoneyJar/sonar-api `Caddyfile` (trimmed): the gateway listens on
/// Railway's `$PORT`; Railway's edge terminates TLS.
const SONAR_GATEWAY: &str = "{\n\tadmin localhost:2019\n\tservers {\n\t\ttrusted_proxies static private_ranges\n\t}\n}\n\n:{$PORT:8080} {\n\trequest_body {\n\t\tmax_size 50KB\n\t}\n\treverse_proxy {$BELT_UPSTREAM} {\n\t\theader_up Host {upstream_hostport}\n\t}\n}\n";

#[test]
fn a_listener_on_the_platform_port_is_not_judged_another_variable_is() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "repo/Caddyfile", SONAR_GATEWAY);
    let fs = check(d.path());
    assert!(of(&fs, "http.https-redirect").is_empty(), "{fs:#?}");
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "repo/Caddyfile",
        SONAR_GATEWAY.replace("{$PORT:8080}", "{$GATEWAY_PORT:8080}"),
    );
    let fs = check(d.path());
    assert_eq!(of(&fs, "http.https-redirect").len(), 1, "{fs:#?}");
}

/// Issue 11 acceptance, "a service named `secret` and an image named `vault`
/// appear unmasked in every format", in its hardest form: literal secrets
/// whose values are those very words (`POSTGRES_PASSWORD: secret`,
/// `VAULT_TOKEN: vault`) mask the values where they are written, never the
/// service, the image or rampart's own words (`no-new-privileges:true`).
#[test]
fn identifiers_equal_to_secret_values_stay_unmasked_in_every_format() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "repo/docker-compose.yml",
        "services:\n  secret:\n    image: vault\n    environment:\n      POSTGRES_PASSWORD: secret\n      VAULT_TOKEN: vault\n      MYSQL_RANDOM_ROOT_PASSWORD: \"true\"\n",
    );
    for format in ["text", "json", "sarif", "junit", "github", "short"] {
        let (_, out, err) = rampart(d.path(), &["check", "--format", format, "repo"]);
        for shown in [
            "`POSTGRES_PASSWORD` of `secret` is set to a literal value",
            "`VAULT_TOKEN` of `secret` is set to a literal value",
            "`secret` uses `vault`, which is not pinned",
            "`secret` does not set `no-new-privileges:true`",
        ] {
            assert!(
                out.contains(shown),
                "{format}: `{shown}` not shown\n{out}{err}"
            );
        }
        // `MYSQL_RANDOM_ROOT_PASSWORD: "true"` is a setting, not a secret.
        assert!(
            !out.contains("MYSQL_RANDOM_ROOT_PASSWORD` of"),
            "{format}: {out}"
        );
    }
    // The snippets mask the two values where they are written, nothing else.
    let (_, text, _) = rampart(d.path(), &["check", "repo"]);
    for line in [
        "POSTGRES_PASSWORD: ******",
        "VAULT_TOKEN: *****",
        "  secret:",
        "image: vault",
    ] {
        assert!(text.contains(line), "`{line}` not in a snippet\n{text}");
    }
    assert!(!text.contains("POSTGRES_PASSWORD: secret"), "{text}");
}
