namespace Dsl.Training;

/// <summary>Steps a learning-rate schedule after every epoch (PyTorch's <c>scheduler.step()</c> at the end of an epoch).</summary>
public sealed class LrScheduleCallback(LrSchedule schedule) : TrainingCallback
{
    /// <summary>The schedule stepped.</summary>
    public LrSchedule Schedule { get; } = schedule ?? throw new ArgumentNullException(nameof(schedule));

    public override void OnEpochEnd(TrainingContext context, EpochResult result) => Schedule.Step();
}
