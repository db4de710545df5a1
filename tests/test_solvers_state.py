"""The models' state and history (``_solvers.state``)."""

import numpy as np
from quadratic import Quadratic, start

from sklearn_gdlogreg._solvers.state import DescentState, History


def test_history_counts_updates_until_each_model_stops():
    history = History(3, max_iter=2000)
    for iteration in range(1500):  # past the first allocation of 1024
        history.record(iteration, slice(None), np.arange(3) + iteration)
        if iteration == 9:
            history.stop([1], 10)
    assert history.n_iter.tolist() == [1500, 10, 1500]
    curves = history.curves()
    assert len(curves[1]) == 10 and curves[0][-1] == 1499
    assert history.recent_max(1499, [0, 2], 10).tolist() == [1499, 1501]
    np.testing.assert_array_equal(history.latest(1499), [1499, 10, 1501])


def test_a_batch_of_some_models_is_put_back_into_their_rows():
    objective = Quadratic(1.0, k=3)
    params = start(1.0, 2.0, k=3) * np.arange(1, 4).reshape(-1, 1, 1)
    state = DescentState(objective, params.copy(), 0.5, max_iter=10)
    batch = state.batch(adaptive=False)
    assert batch.everyone and batch.x is state.x  # no copies while all run
    state.running[1] = False
    state.n_running = 2
    batch = state.batch(adaptive=False)
    assert batch.models.tolist() == [0, 2] and not batch.everyone
    batch.x = batch.y = batch.x * 0
    batch.value = np.array([-1.0, -3.0])
    state.store(batch)
    np.testing.assert_array_equal(state.x[1], params[1])
    assert not state.x[[0, 2]].any() and state.value.tolist()[::2] == [-1.0, -3.0]
