#!/usr/bin/env bash
# Validates the deployment files without a Docker engine:
#   - docker-compose.yml and deploy/swarm/waggle-stack.yml with `config -q`, through the
#     Compose plugin (`docker compose`) if present, else the standalone `docker-compose`
#     (Debian: apt-get install docker-compose, 1.29);
#   - the shell scripts with `bash -n`;
#   - the Prometheus/Grafana YAML and the dashboard JSON parse.
# Usage: deploy/check.sh   (from anywhere; exits non-zero on the first failure)
set -euo pipefail

cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "error: neither 'docker compose' nor 'docker-compose' is installed (apt-get install -y docker-compose)" >&2
  exit 1
fi
echo "using: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null || "${compose[@]}" version | head -n1))"

run() {
  echo "+ $*"
  "$@"
}

# The hub's compose file, with its defaults (no variable is required).
run "${compose[@]}" -f docker-compose.yml config -q

# The Swarm stack. WAGGLE_PUBLIC_HOST is required by the stack (no sensible default
# for machines on other hosts): give it an example value for validation. The file is
# version "3.8", which Compose validates with the 3.8 schema, the one `docker stack deploy`
# reads, so Swarm-only keys (deploy, external secrets with uid/gid/mode, configs, overlay
# network options) are checked too. What `config` cannot check: that the external secrets
# exist (they are created by create-secrets.sh on a Swarm manager).
WAGGLE_PUBLIC_HOST=hub.example.net run "${compose[@]}" -f deploy/swarm/waggle-stack.yml config -q

# `docker stack config` (Docker CLI 20.10+) renders the stack with the same loader as
# `docker stack deploy`, without a daemon.
if docker stack config --help >/dev/null 2>&1; then
  echo "+ docker stack config -c deploy/swarm/waggle-stack.yml >/dev/null"
  WAGGLE_PUBLIC_HOST=hub.example.net docker stack config -c deploy/swarm/waggle-stack.yml >/dev/null
fi

for script in deploy/swarm/create-secrets.sh deploy/check.sh; do
  run bash -n "$script"
done

if command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null; then
  run python3 - <<'PY'
import json, sys, yaml
for path in ["deploy/prometheus/prometheus.yml",
             "deploy/grafana/provisioning/datasources/prometheus.yml",
             "deploy/grafana/provisioning/dashboards/waggle.yml"]:
    yaml.safe_load(open(path))
dashboard = json.load(open("deploy/grafana/dashboards/waggle.json"))
ids = [p["id"] for p in dashboard["panels"]]
if len(ids) != len(set(ids)):
    sys.exit("waggle.json: duplicate panel ids")
print(f"yaml ok, dashboard ok ({len(ids)} panels)")
PY
fi

if command -v systemd-analyze >/dev/null 2>&1; then
  # Where Waggle is not installed, the one expected complaint is the missing
  # /usr/local/bin/waggle; anything else fails the check.
  echo "+ systemd-analyze verify deploy/systemd/waggle-agent.service"
  problems="$(systemd-analyze verify deploy/systemd/waggle-agent.service 2>&1 | grep -v 'Command /usr/local/bin/waggle is not executable' || true)"
  if [[ -n "$problems" ]]; then
    echo "$problems" >&2
    exit 1
  fi
fi

echo "deploy files OK"
