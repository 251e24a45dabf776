using System.Globalization;
using Dsl;
using Dsl.Data;

namespace Specs.Cli;

/// <summary>
/// <c>train &lt;network&gt; [options]</c>: trains a catalog network on Fashion-MNIST, shows progress, prints the final
/// test accuracy and writes the run's plot and metrics.
/// </summary>
public static class TrainCommand
{
    public const string Usage =
        "train <network> [--epochs N] [--batch-size N] [--lr X] [--optimizer sgd|adam] [--momentum X] [--schedule none|cosine] [--seed N]\n" +
        "                [--data DIR] [--device cpu|cpu:THREADS|gpu|gpu:cpu] [--limit-train N] [--limit-test N] [--out DIR]\n" +
        "                [--init CHECKPOINT]  (a safetensors file to start from; the trained weights are saved as model.safetensors)";

    private static readonly string[] Known =
        ["epochs", "batch-size", "lr", "optimizer", "momentum", "schedule", "seed", "data", "device", "limit-train", "limit-test", "out", "init"];

    public static int Run(IEnumerable<string> args, TextWriter output)
    {
        var o = new Options("train", args, Known);
        var info = NetworkCatalog.Get(o.Single("a network name (see 'list')"));
        var recipe = ApplyOverrides(info.DefaultRecipe, o);
        int seed = o.Int("seed") ?? 0;
        var device = ParseDevice(o.String("device"));

        var location = FashionMnist.Locate(o.String("data"));
        output.WriteLine($"data: {location.Describe()}");
        if (!location.IsFull)
        {
            output.WriteLine("      this is a slice, not the full data set: accuracies are not comparable with published ones");
        }
        var data = FashionMnist.Load(location.Folder);
        var train = data.Train.Take(o.PositiveInt("limit-train") ?? int.MaxValue);
        var test = data.Test.Take(o.PositiveInt("limit-test") ?? int.MaxValue);

        var net = info.Create(device, seed);
        if (o.String("init") is { } init)
        {
            Checkpoint.Load(net, init);
            output.WriteLine($"weights: loaded from {init}");
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training {info.Name} ({net.ParameterCount:N0} parameters) on {device.Name}: {recipe}, seed {seed}, {train.Count:N0} train / {test.Count:N0} test images"));

        var trainer = new Trainer(net, recipe, train, test, seed);
        var history = Console.IsOutputRedirected || !ReferenceEquals(output, Console.Out)
            ? trainer.Run(new PlainProgress(output))
            : LiveProgress.Run(trainer.Run);

        string folder = o.String("out") ?? Path.Combine("runs", $"{info.Name}-{DateTime.Now:yyyyMMdd-HHmmss}");
        var files = RunArtifacts.Write(folder, $"{info.Name} on Fashion-MNIST ({recipe})", history).ToList();
        string weights = Path.Combine(folder, "model.safetensors");
        Checkpoint.Save(net, weights, new Dictionary<string, string> { ["recipe"] = recipe.ToString(), ["seed"] = seed.ToString(CultureInfo.InvariantCulture) });
        files.Add(weights);
        output.WriteLine($"wrote {string.Join(", ", files)}");
        output.WriteLine(Format.FinalLine(history));
        return 0;
    }

    /// <summary>The recipe with the command line's overrides applied.</summary>
    public static Recipe ApplyOverrides(Recipe recipe, Options o)
    {
        var optimizer = o.Choice("optimizer", "sgd", "adam") switch
        {
            "sgd" => OptimizerKind.Sgd,
            "adam" => OptimizerKind.Adam,
            _ => recipe.Optimizer,
        };
        float? momentum = o.NonNegativeFloat("momentum");
        if (momentum is > 1f)
        {
            throw new UsageException($"train: --momentum must lie in [0, 1], got {momentum.Value.ToString(CultureInfo.InvariantCulture)}.");
        }
        return recipe with
        {
            Optimizer = optimizer,
            LearningRate = o.NonNegativeFloat("lr") ?? recipe.LearningRate,
            Momentum = momentum ?? recipe.Momentum,
            BatchSize = o.PositiveInt("batch-size") ?? recipe.BatchSize,
            Epochs = o.PositiveInt("epochs") ?? recipe.Epochs,
            Schedule = o.Choice("schedule", "none", "cosine") ?? recipe.Schedule,
        };
    }

    /// <summary>The device named on the command line (CPU when absent).</summary>
    public static Device ParseDevice(string? name)
    {
        if (name is null)
        {
            return Device.Default;
        }
        try
        {
            return Device.Parse(name);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--device: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}");
        }
        catch (NotSupportedException e)
        {
            throw new UsageException($"--device {name}: {e.Message}");
        }
    }
}
