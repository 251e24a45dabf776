namespace Dsl.Training;

/// <summary>The progress displays <see cref="Trainer.Progress"/> takes besides an observer of your own.</summary>
public static class TrainingProgress
{
    /// <summary>
    /// Live progress bars when standard output is an interactive terminal, plain lines (<see cref="PlainProgress"/>)
    /// when it is redirected to a file or a pipe. The default.
    /// </summary>
    public static ITrainingObserver Auto { get; } = new Silent();

    /// <summary>Nothing is shown.</summary>
    public static ITrainingObserver None { get; } = new Silent();

    private sealed class Silent : ITrainingObserver
    {
        public void EpochStarted(int epoch, int epochs, int batches)
        {
        }

        public void BatchDone(in BatchProgress progress)
        {
        }

        public void EpochDone(EpochResult result)
        {
        }
    }
}
