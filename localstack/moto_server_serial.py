"""moto's standalone server with every request handled under one lock.

moto serves requests on threads, but its backends keep plain Python state with
no per-item locking: two concurrent DynamoDB `UpdateItem ... ADD` calls can read
the same value and both write N+1, where real DynamoDB applies conditional and
atomic writes one at a time per item. The integration suites assert that
guarantee (1,000 concurrent block-counter increments count exactly 1,000), so
the emulator must keep it. Serializing requests restores it; moto is bound by
the GIL anyway, so throughput barely changes.

Same command line as `moto_server` (-H/--host, -p/--port, ...): this module
only wraps the WSGI application moto hands to werkzeug, then runs moto's main.
"""
import threading

import moto.server


def serialized(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        with lock:
            body = app(environ, start_response)
            # Materialize inside the lock: a lazily produced body would read backend state after release.
            try:
                return [b"".join(body)]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

    return handle


def run_simple_serialized(host, port, application, **options):
    return werkzeug_run_simple(host, port, serialized(application), **options)


werkzeug_run_simple = moto.server.run_simple
moto.server.run_simple = run_simple_serialized

if __name__ == "__main__":
    moto.server.main()
