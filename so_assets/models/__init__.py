"""Tag and score models, by role.

- ``core``: the contract every family implements (:mod:`.core.base`) with its typed parameters
  (:mod:`so_assets.params`), the data they learn from (:mod:`.core.data`), decision thresholds
  and the score target transform.
- ``tags`` / ``scores``: the model families of each task, each with its parameter class.
- ``training``: the torch epoch loop, networks, losses, batching and progress logs.
- ``publication``: fit, calibrate, save and publish a registered model atomically; parts
  stored once for every model that shares them.
- ``prediction``: assembling the splits from the stores, and predicting for new text.
- ``registry``: every registered model (one asset each) and loading a saved folder.
"""
