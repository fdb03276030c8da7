# Sourced by .ci/run after services-setup.sh: test-only variables that point the suite at
# the loopback PostgreSQL and Chroma server. The app's own DATABASE_URL and CHROMA_HOST
# stay unset, so the default tests keep using SQLite and the embedded Chroma client.
export TEST_DATABASE_URL="postgresql+psycopg://relpractice:relpractice@127.0.0.1:${RELPRACTICE_CI_PG_PORT:-55432}/relpractice_test"
export CHROMA_TEST_HOST="127.0.0.1"
export CHROMA_TEST_PORT="${RELPRACTICE_CI_CHROMA_PORT:-58000}"
