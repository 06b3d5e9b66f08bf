"""The child process of an isolated send (``isolation.send_isolated``): a pickled ``Job`` in, a pickled ``Outcome`` out.

Only the standard library is imported before ``django.setup()``; nothing but the outcome
goes to stdout (anything printed meanwhile goes to stderr).
"""

import pickle
import sys


def main() -> None:
    answer = sys.stdout.buffer
    sys.stdout = sys.stderr
    import django

    django.setup()
    from deliveries.engine.send import perform

    job = pickle.loads(sys.stdin.buffer.read())  # from our parent process, over a pipe
    answer.write(pickle.dumps(perform(job)))
    answer.flush()


if __name__ == "__main__":
    main()
