"""Nesterov's steps with restart (``_solvers.nesterov``)."""

import numpy as np
from quadratic import ill_conditioned, start

from sklearn_gdlogreg._solvers import gradient_descent


def test_nesterov_is_much_faster_and_restarts_on_rises():
    objective = ill_conditioned()
    kwargs = {"learning_rate": 1.0, "max_iter": 20_000, "tol": 1e-8}
    plain = gradient_descent(objective, start(0.0, 0.0), **kwargs)
    fast = gradient_descent(objective, start(0.0, 0.0), solver="nesterov", **kwargs)
    assert plain.converged[0] and fast.converged[0]
    assert fast.n_iter[0] * 10 < plain.n_iter[0]
    np.testing.assert_allclose(fast.params[0, 0], [1.0, -2.0], atol=1e-4)
    curve = fast.loss_curves[0]
    rises = np.diff(curve) > 0
    assert rises.any()  # momentum overshoots...
    assert not (rises[1:] & rises[:-1]).any()  # ...and a restart follows each rise
