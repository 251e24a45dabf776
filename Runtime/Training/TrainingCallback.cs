namespace Dsl.Training;

/// <summary>
/// Hooks into <see cref="Trainer.Fit"/>, in the order the callbacks were added: override what you need.
/// <see cref="EarlyStopping"/>, <see cref="ModelCheckpoint"/>, <see cref="LrScheduleCallback"/> and
/// <see cref="LambdaCallback"/> are the ready-made ones.
/// </summary>
public abstract class TrainingCallback
{
    /// <summary>Before the first epoch.</summary>
    public virtual void OnTrainBegin(TrainingContext context)
    {
    }

    /// <summary>After each epoch's training and evaluation; <paramref name="result"/> is already in the history.</summary>
    public virtual void OnEpochEnd(TrainingContext context, EpochResult result)
    {
    }

    /// <summary>After the last epoch, or the one a callback stopped at (not after a <see cref="NonFiniteLossException"/>).</summary>
    public virtual void OnTrainEnd(TrainingContext context)
    {
    }
}
