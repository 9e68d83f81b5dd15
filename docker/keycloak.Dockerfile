# Keycloak with the backup-codes provider and theme, built for PostgreSQL:
# `docker build -f docker/keycloak.Dockerfile -t backup-codes-keycloak .` (from the repo root).
ARG KEYCLOAK_VERSION=26.7.3

FROM maven:3-eclipse-temurin-17 AS provider
WORKDIR /src
COPY plugin/pom.xml plugin/pom.xml
RUN mvn -B -q -f plugin/pom.xml dependency:go-offline
COPY plugin/src plugin/src
RUN mvn -B -q -f plugin/pom.xml package

FROM quay.io/keycloak/keycloak:${KEYCLOAK_VERSION} AS builder
ENV KC_DB=postgres \
    KC_HEALTH_ENABLED=true \
    KC_METRICS_ENABLED=true \
    KC_FEATURES=declarative-ui
COPY --from=provider /src/plugin/target/keycloak-backup-codes.jar /opt/keycloak/providers/
RUN /opt/keycloak/bin/kc.sh build

FROM quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}
COPY --from=builder /opt/keycloak/ /opt/keycloak/
# The bridge URL and API key are server-level settings (never in the admin console): set
# BACKUP_CODES_BRIDGE_URL and BACKUP_CODES_BRIDGE_API_KEY, or the matching --spi-authenticator--backup-code--* options.
ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]
CMD ["start", "--optimized"]
