namespace Dsl.Training;

/// <summary>One epoch's outcome.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's batches (as read: every step on the CPU).</param>
/// <param name="TrainAccuracy">Fraction of training samples the network classified correctly as it trained (train mode, dropout on).</param>
/// <param name="TestLoss">Mean loss over the test set after the epoch, in evaluation mode.</param>
/// <param name="TestAccuracy">Fraction of test samples classified correctly after the epoch.</param>
/// <param name="TrainSeconds">Wall time of the epoch's training steps (data loading included, evaluation not).</param>
/// <param name="EvalSeconds">Wall time of the evaluation.</param>
/// <param name="SamplesPerSecond">Training samples per second.</param>
/// <param name="LearningRate">The optimiser's learning rate during the epoch.</param>
public sealed record EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
    double TrainSeconds, double EvalSeconds, double SamplesPerSecond, double LearningRate);
