"""The stack's env file (KEY=VALUE lines written by stack.sh up), for the stack's helpers.

Read from $CONVENE_STACK_ENV, else $CONVENE_STACK_DIR/stack.env, else
/tmp/convene-stack/stack.env; the process environment overrides the keys named.
"""

import os


def load(overrides=()):
    path = os.environ.get("CONVENE_STACK_ENV") or os.path.join(
        os.environ.get("CONVENE_STACK_DIR", "/tmp/convene-stack"), "stack.env"
    )
    env = {}
    try:
        with open(path) as fh:
            for line in fh:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, v = line.split("=", 1)
                    env[k] = v
    except OSError:
        pass
    env.update({k: os.environ[k] for k in overrides if os.environ.get(k)})
    return env
