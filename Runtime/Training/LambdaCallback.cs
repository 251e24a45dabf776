namespace Dsl.Training;

/// <summary>A callback from a delegate, run after every epoch.</summary>
public sealed class LambdaCallback(Action<TrainingContext, EpochResult> onEpochEnd) : TrainingCallback
{
    public override void OnEpochEnd(TrainingContext context, EpochResult result) => onEpochEnd(context, result);
}
