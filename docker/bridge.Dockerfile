# The bridge service: `docker build -f docker/bridge.Dockerfile -t backup-codes-bridge .` (from the repo root).
# Runs as an unprivileged user; state lives in /var/lib/backup-codes (SQLite) unless
# BACKUP_CODES_DATABASE_URL points at PostgreSQL. Every start applies pending migrations first.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BACKUP_CODES_DATA_DIR=/var/lib/backup-codes \
    BACKUP_CODES_HOST=0.0.0.0 \
    BACKUP_CODES_PORT=8090

# Primary group 0 (as in the Keycloak image) so the API key that compose's bridge-init writes to
# /run/bridge-key (mode 0640, a volume shared with Keycloak only) is readable by Keycloak's user and by
# nobody else; group 0 grants no privileges. A named volume takes this directory's owner and mode.
RUN useradd --system --uid 10001 --gid 0 --home-dir /var/lib/backup-codes --shell /usr/sbin/nologin backup-codes \
 && install -d -o backup-codes -g 0 -m 0750 /var/lib/backup-codes /run/bridge-key

# Thai and CJK fonts for names on the PDF sheet (bridge/sheet/faces.py); without them such names are
# left out of the sheet and the bridge logs a warning at start.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk fonts-tlwg-loma-ttf \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/backup-codes
COPY pyproject.toml ./
COPY bridge ./bridge
# The gettext catalogs of mails and sheet are compiled here (.po in git, .mo built), then packaged.
RUN pip install "babel>=2.16,<3" \
 && pybabel compile -d bridge/locale --statistics \
 && pip install . && rm -rf /opt/backup-codes/build

USER 10001:0
WORKDIR /var/lib/backup-codes
VOLUME ["/var/lib/backup-codes"]
EXPOSE 8090

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('BACKUP_CODES_PORT', '8090') + '/healthz', timeout=4)"]

# Extra arguments (e.g. `--workers 4`) go to `serve`. Other commands: --entrypoint backup-codes.
ENTRYPOINT ["/bin/sh", "-c", "backup-codes db upgrade && exec backup-codes serve --host 0.0.0.0 \"$@\"", "backup-codes"]
CMD []
