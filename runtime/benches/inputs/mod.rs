//! Inputs of the benchmarks, generated (nothing read from disk, no network):
//! folders `svc-N/` of the five files a typical service repository holds, the
//! shape of `bench/peers.sh`'s sets, each numbered so no two are identical.

use rampart_runtime::project::{Kind, Project};

/// A compose file of six services (one built from `svc-{i}/Dockerfile`).
pub fn compose(i: usize) -> String {
    let mut s = format!("name: app{i}\nservices:\n");
    s.push_str(&format!(
        "  proxy:\n    image: nginx:1.27-alpine\n    ports:\n      - \"80:80\"\n      - \"443:443\"\n    volumes:\n      - ./nginx.conf:/etc/nginx/nginx.conf:ro\n    depends_on:\n      - api\n    restart: unless-stopped\n\
  api:\n    build:\n      context: .\n      dockerfile: Dockerfile\n    image: ghcr.io/example/api{i}:1.4.2\n    user: \"1000:1000\"\n    read_only: true\n    cap_drop:\n      - ALL\n    security_opt:\n      - no-new-privileges:true\n    environment:\n      DATABASE_URL: postgresql://app:${{POSTGRES_PASSWORD:?not set}}@db:5432/app{i}\n      LOG_LEVEL: info\n    healthcheck:\n      test: [\"CMD\", \"curl\", \"-fsS\", \"http://127.0.0.1:8000/health\"]\n      interval: 30s\n\
  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${{POSTGRES_PASSWORD:-secure_password_{i}}}\n    volumes:\n      - db:/var/lib/postgresql/data\n\
  redis:\n    image: redis:7\n    ports:\n      - \"6380:6379\"\n\
  worker:\n    image: ghcr.io/example/worker:2.0\n    privileged: true\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n\
  grafana:\n    image: grafana/grafana:latest\n    environment:\n      GF_SECURITY_ADMIN_PASSWORD: ${{GRAFANA_PASSWORD}}\n    security_opt:\n      - seccomp:unconfined\n\
volumes:\n  db: {{}}\n"
    ));
    s
}

/// A two-stage Dockerfile.
pub fn dockerfile(i: usize) -> String {
    format!(
        "# syntax=docker/dockerfile:1\nFROM python:3.11-slim AS build\nWORKDIR /src\n\
RUN apt-get update && apt-get install -y build-essential libpq-dev\nCOPY pyproject.toml poetry.lock ./\n\
RUN pip install poetry && poetry export -f requirements.txt -o requirements.txt\nADD . /src\n\
RUN pip wheel --wheel-dir /wheels -r requirements.txt\n\n\
FROM python:3.11-slim\nENV APP_ID={i} PYTHONUNBUFFERED=1\nWORKDIR /app\n\
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 curl && rm -rf /var/lib/apt/lists/*\n\
COPY --from=build /wheels /wheels\nRUN pip install --no-cache-dir /wheels/* && rm -rf /wheels\n\
COPY --chown=1000:1000 src/ /app/\nUSER 1000\nEXPOSE 8000\nENTRYPOINT [\"python\", \"-m\", \"app\"]\n"
    )
}

/// An nginx configuration: a redirect and a TLS server.
pub fn nginx(i: usize) -> String {
    format!(
        "worker_processes auto;\nevents {{ worker_connections 1024; }}\nhttp {{\n    server_tokens on;\n\
    upstream api {{ server 127.0.0.1:8000; }}\n\
    server {{\n        listen 80;\n        server_name app{i}.example.test;\n        return 301 https://$host$request_uri;\n    }}\n\
    server {{\n        listen 443 ssl;\n        server_name app{i}.example.test;\n        ssl_certificate certs/app.crt;\n        ssl_certificate_key certs/app.key;\n\
        add_header X-Frame-Options \"DENY\" always;\n\
        location / {{\n            proxy_pass http://api;\n            proxy_set_header Host $host;\n        }}\n\
        location /static/ {{\n            add_header Cache-Control \"public\";\n            root /srv;\n        }}\n    }}\n}}\n"
    )
}

/// A Caddyfile of two sites.
pub fn caddyfile(i: usize) -> String {
    format!(
        "{{\n\temail ops@example.test\n}}\n\napp{i}.example.test {{\n\tencode zstd gzip\n\theader {{\n\t\tX-Frame-Options DENY\n\t\t-Server\n\t}}\n\
\treverse_proxy 127.0.0.1:8000\n}}\n\ngrafana{i}.example.test {{\n\treverse_proxy 127.0.0.1:3000\n}}\n"
    )
}

/// An env file with a weak and a strong password.
pub fn dotenv(i: usize) -> String {
    format!(
        "COMPOSE_PROJECT_NAME=app{i}\nPOSTGRES_PASSWORD=cdb_secure_password\nGRAFANA_PASSWORD=admin123\nAPI_TOKEN=q0Vh3Jv7Zc2m9xLw5TtRk8bY{i:08}\nLOG_LEVEL=info\n"
    )
}

/// The five formats: (name, file name, generator, kind).
pub type Format = (&'static str, &'static str, fn(usize) -> String, Kind);

/// Every format, as `bench/peers.sh`'s folders hold them.
pub fn formats() -> [Format; 5] {
    [
        ("compose", "compose.yaml", compose, Kind::COMPOSE),
        ("dockerfile", "Dockerfile", dockerfile, Kind::DOCKERFILE),
        ("nginx", "nginx.conf", nginx, Kind::NGINX),
        ("caddy", "Caddyfile", caddyfile, Kind::CADDY),
        ("dotenv", ".env", dotenv, Kind::DOTENV),
    ]
}

/// `folders` folders of the five files, read but not linked.
pub fn unlinked(folders: usize) -> Project {
    let mut project = Project::default();
    for i in 0..folders {
        for (_, name, make, kind) in formats() {
            project.add_file(&format!("svc-{i}/{name}"), make(i).into_bytes(), kind);
        }
    }
    project
}

/// `folders` folders of the five files, read and linked.
pub fn project(folders: usize) -> Project {
    let mut project = unlinked(folders);
    project.link();
    project
}
