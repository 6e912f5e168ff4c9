"""Load benchmark of the booking app under gunicorn, against a floor app and with three years of history.

`make bench` (or `python -m bench.run --help`) runs it; results go to bench/results/.
"""
