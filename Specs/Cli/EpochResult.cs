namespace Specs.Cli;

/// <summary>One epoch's outcome.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's batches.</param>
/// <param name="TestAccuracy">Fraction of test images classified correctly after the epoch.</param>
/// <param name="TrainSeconds">Wall time of the epoch's training steps (data loading included, evaluation not).</param>
/// <param name="EvalSeconds">Wall time of the evaluation.</param>
/// <param name="SamplesPerSecond">Training samples per second.</param>
public sealed record EpochResult(int Epoch, double TrainLoss, double TestAccuracy, double TrainSeconds, double EvalSeconds, double SamplesPerSecond);
