// Package checkpoint saves and restores a training run's complete state —
// parameters, optimizer moments, best weights for early stopping, history
// and position — in one safetensors file written atomically, so a crash or
// SIGKILL at any moment leaves either the previous checkpoint or the new
// one, never a torn file. A SHA-256 over the run state and every tensor
// makes a checkpoint damaged on disk an error, not a silently different run.
package checkpoint
