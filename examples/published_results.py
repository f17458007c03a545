"""The published results of both assignments (../shared/SPEC.md): the numbers of
`initialization` and the expected pattern of `initialization_deep`.

Every test that checks one of the notebook's numbers takes it from here, and
the benchmark compares its training with them.
"""

# Initial values under np.random.seed(3), printed to 8 decimals by the checks.
RANDOM_3_2_1 = {
    "W1": [[17.88628473, 4.36509851, 0.96497468], [-18.63492703, -2.77388203, -3.54758979]],
    "W2": [[-0.82741481, -6.27000677]],
}
HE_2_4_1 = {
    "W1": [
        [1.78862847, 0.43650985],
        [0.09649747, -1.8634927],
        [-0.2773882, -0.35475898],
        [-0.08274148, -0.62700068],
    ],
    "W2": [[-0.03098412, -0.33744411, -0.92904268, 0.62552248]],
}
HE_3_1_2 = {"W1": [[1.46040903, 0.3564088, 0.07878985]], "W2": [[-2.63537665], [-0.39228616]]}

PRINT_EVERY = 1000
NUM_ITERATIONS = 15000

# Zeros: the cost is ln 2 at every print, exactly as printed here.
ZEROS_COST_TEXT = "0.6931471805599453"
ZEROS_ACCURACY = {"train": "0.5", "test": "0.5"}

# Large random: inf at iteration 0, then costs that move in the 3rd-4th digit
# with the BLAS build, so they are compared with these tolerances.
RANDOM_FIRST_COST_TEXT = "inf"
RANDOM_COSTS_APPROX = {1000: 0.624, 14000: 0.3828}
RANDOM_COST_TOLERANCE = 0.005
RANDOM_ACCURACY = {"train": "0.83", "test": "0.86"}

# He: costs at iterations 0, 1000, ..., 14000, reproducible to about 1e-12.
HE_COSTS = [
    0.8830537463419761,
    0.6879825919728063,
    0.6751286264523371,
    0.6526117768893807,
    0.6082958970572938,
    0.5304944491717495,
    0.4138645817071794,
    0.3117803464844441,
    0.23696215330322562,
    0.18597287209206834,
    0.15015556280371806,
    0.12325079292273546,
    0.09917746546525934,
    0.08457055954024278,
    0.07357895962677369,
]
HE_COST_TOLERANCE = 1e-12
HE_ACCURACY = {"train": "0.9933333333333333", "test": "0.96"}

# Conclusions table: (row label, train accuracy as written).
CONCLUSIONS = [("Zeros", "50%"), ("Large random", "83%"), ("He", "99%")]


# ---------------------------------------------------------------------------
# `initialization_deep`: the spec gives a pattern, not numbers. What each
# initialization must show in the recorded results tables (final cost, and
# training accuracy), for the tanh network [64, 5, 5, 1] and the 6-layer ReLU
# network, after 2,000 steps.
DEEP_STALLED_COST = 0.6931  # ln 2, as printed to 4 decimals
DEEP_GUESSING_ACCURACY = (0.45, 0.55)  # about half of the digits are odd
DEEP_LEARNED = {"max_final_cost": 0.05, "min_train_accuracy": 0.99}
# Methods stuck at ln 2 after training, per network.
DEEP_STALLED = {"tanh": {"zeros"}, "relu": {"zeros", "random", "small"}}
# Methods that learn the task, per network.
DEEP_LEARNING = {"tanh": {"small", "xavier", "he"}, "relu": {"xavier", "he"}}
# Large random weights start from an infinite cost, and with tanh they are
# still far behind after 2,000 steps.
DEEP_RANDOM_FIRST_COST = "inf"
DEEP_TANH_RANDOM_MIN_FINAL_COST = 0.3
# Spread of the 10th hidden layer before training: vanishing, exploding or steady.
DEEP_SPREAD_LAYER_10 = {
    ("tanh", "small"): (0, 1e-8),
    ("relu", "small"): (0, 1e-8),
    ("relu", "random"): (1e10, float("inf")),
    ("tanh", "xavier"): (0.1, 1.0),
    ("relu", "he"): (0.3, 3.0),
}
