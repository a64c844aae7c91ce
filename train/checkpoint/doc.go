// Package checkpoint saves and restores a training run's complete state —
// parameters, optimizer moments, best weights for early stopping, history
// and position — in one file written atomically, so a crash or SIGKILL at
// any moment leaves either the previous checkpoint or the new one, never a
// torn file.
package checkpoint
