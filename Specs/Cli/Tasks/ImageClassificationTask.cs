using System.Globalization;
using Dsl.Data;
using Dsl.Training;

namespace Specs.Cli;

/// <summary>
/// The course's image networks: Fashion-MNIST (Debian's package, <c>--data</c>, or the bundled slice), the runtime's
/// <see cref="Trainer"/> on its images, the weights saved after every finite epoch, the last epoch's test accuracy.
/// </summary>
public sealed class ImageClassificationTask : NetworkTask
{
    private ImageClassificationTask()
    {
    }

    /// <summary>The one instance: the image networks differ only in their entries.</summary>
    public static ImageClassificationTask FashionMnist { get; } = new();

    public override string Data => "Fashion-MNIST images";

    public override string? Refuse(TrainSettings settings)
        => settings.Windows is not null ? "--windows applies to language models (char-lstm), not to image networks."
            : settings.ShowAttention ? "--show-attention applies to bilstm-attention, not to image networks."
            : null;

    public override int Train(TrainRun run)
    {
        var (output, settings, recipe) = (run.Cli.Out, run.Settings, run.Recipe);
        var location = Dsl.Data.FashionMnist.Locate(settings.Data);
        output.WriteLine($"data: {location.Describe()}");
        if (!location.IsFull)
        {
            output.WriteLine("      this is a slice, not the full data set: accuracies are not comparable with published ones");
        }
        var data = Dsl.Data.FashionMnist.Load(location.Folder);
        var train = data.Train.Take(settings.LimitTrain ?? int.MaxValue);
        var test = data.Test.Take(settings.LimitTest ?? int.MaxValue);
        if (train.Count == 0 || test.Count == 0)
        {
            throw new UsageException($"the {(train.Count == 0 ? "training" : "test")} set in {location.Folder} is empty: nothing to {(train.Count == 0 ? "train on" : "evaluate on")}");
        }

        var net = run.CreateNetwork();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training {run.Info.Name} ({net.ParameterCount:N0} parameters) on {run.Device.Name}: {recipe}, seed {settings.Seed}, {train.Count:N0} train / {test.Count:N0} test images"));
        var optimizer = recipe.CreateOptimizer(net);
        var schedule = recipe.CreateSchedule(optimizer);
        var checkpoint = new ModelCheckpoint(run.Weights, bestOnly: false, metadata: run.Metadata());
        var history = run.Fit($"{run.Info.Name} on Fashion-MNIST ({recipe})", checkpoint,
            progress => run.CreateTrainer(net, optimizer, schedule, progress, checkpoint).Fit(train, test));
        output.WriteLine(TrainingFormat.FinalLine(history));
        return 0;
    }
}
