#!/bin/sh
# Container entrypoint: bring the database schema up to date, then become the bot.
#
# Settings (QUIZBOT_DATABASE_URL, DISCORD_*, SLACK_*, ...) come from the environment;
# the image points QUIZBOT_DATABASE_URL at the /data volume. `quizbot db upgrade` is
# idempotent, so running it on every start is safe. `exec` replaces this shell with
# quizbot, so the bot is PID 1 and receives SIGTERM from `docker stop` directly.
set -eu

quizbot db upgrade

if [ "$#" -eq 0 ]; then
    set -- run
fi
exec quizbot "$@"
