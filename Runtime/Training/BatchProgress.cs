namespace Dsl.Training;

/// <summary>Where training stands after one step.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="Batch">Batches done in this epoch, from 1.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">This batch's loss (on a GPU, the mean since the last reading).</param>
/// <param name="RunningLoss">Mean loss over the epoch so far.</param>
/// <param name="SamplesPerSecond">Training throughput over the epoch so far.</param>
public readonly record struct BatchProgress(int Epoch, int Epochs, int Batch, int Batches, float Loss, double RunningLoss, double SamplesPerSecond);
