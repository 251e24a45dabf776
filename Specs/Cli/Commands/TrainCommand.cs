using System.Globalization;
using Dsl;
using Dsl.Data;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>train &lt;network&gt; [options]</c>: trains a catalog network on Fashion-MNIST, shows progress, prints the final
/// test accuracy and writes the run's plot, metrics and weights.
/// </summary>
public sealed class TrainCommand(CliOutput cli) : Command<TrainSettings>
{
    /// <summary>Where runs go without <c>--out</c>: ignored by git at any depth.</summary>
    public const string RunsFolder = "runs";

    public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken)
    {
        var output = cli.Out;
        var info = settings.Info;
        var recipe = settings.ApplyTo(info.DefaultRecipe);
        int seed = settings.Seed;
        var device = settings.ResolvedDevice;

        var location = FashionMnist.Locate(settings.Data);
        output.WriteLine($"data: {location.Describe()}");
        if (!location.IsFull)
        {
            output.WriteLine("      this is a slice, not the full data set: accuracies are not comparable with published ones");
        }
        var data = FashionMnist.Load(location.Folder);
        var train = data.Train.Take(settings.LimitTrain ?? int.MaxValue);
        var test = data.Test.Take(settings.LimitTest ?? int.MaxValue);

        var net = info.Create(device, seed);
        if (settings.Init is { } init)
        {
            Checkpoint.Load(net, init);
            output.WriteLine($"weights: loaded from {init}");
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training {info.Name} ({net.ParameterCount:N0} parameters) on {device.Name}: {recipe}, seed {seed}, {train.Count:N0} train / {test.Count:N0} test images"));

        var trainer = new Trainer(net, recipe, train, test, seed);
        var history = cli.IsTerminal
            ? LiveProgress.Run(cli.Console, trainer.Run)
            : trainer.Run(new PlainProgress(output));

        string folder = settings.Out ?? DefaultFolder(info.Name, DateTime.Now);
        var files = RunArtifacts.Write(folder, $"{info.Name} on Fashion-MNIST ({recipe})", history).ToList();
        string weights = Path.Combine(folder, "model.safetensors");
        Checkpoint.Save(net, weights, new Dictionary<string, string> { ["recipe"] = recipe.ToString(), ["seed"] = seed.ToString(CultureInfo.InvariantCulture) });
        files.Add(weights);
        output.WriteLine($"wrote {string.Join(", ", files)}");
        output.WriteLine(Format.FinalLine(history));
        return 0;
    }

    /// <summary><c>runs/&lt;network&gt;-&lt;yyyyMMdd-HHmmss&gt;</c>, relative to the working directory.</summary>
    public static string DefaultFolder(string network, DateTime at)
        => Path.Combine(RunsFolder, $"{network}-{at.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
}
