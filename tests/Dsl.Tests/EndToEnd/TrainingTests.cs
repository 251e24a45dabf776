using Dsl.Data;
using Dsl.Tests.Generator;
using Dsl.Training;
using Specs.Cli;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.EndToEnd;

/// <summary>
/// Real training on real Fashion-MNIST images: the 5,000/1,000 slice that ships in Specs/Data, the data a newcomer
/// without the Debian package trains on. Thresholds are far above chance (0.10) and below what the runs reach.
/// </summary>
public class TrainingTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public TrainingTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    private static readonly Lazy<FashionMnist> Slice = new(() =>
        FashionMnist.Load(Path.Combine(GeneratorHarness.RepoRoot(), "Specs", "Data", "fashion-mnist")));

    private static TrainingHistory Train(Module net, Recipe recipe)
    {
        var data = Slice.Value;
        Assert.Equal(5000, data.Train.Count);
        Assert.Equal(1000, data.Test.Count);
        var trainer = new Trainer(net, recipe.CreateOptimizer(net), recipe.Loss)
        {
            Epochs = recipe.Epochs,
            BatchSize = recipe.BatchSize,
            Seed = 1,
            Progress = TrainingProgress.None,
        };
        return trainer.Fit(data.Train, data.Test);
    }

    [Fact]
    public void Mlp_trained_one_epoch_on_5000_images_scores_at_least_75_percent_on_1000_test_images()
    {
        var history = Train(new Mlp(Device.Cpu, seed: 1), Recipe.CourseSgd with { Optimizer = OptimizerKind.Adam, LearningRate = 1e-3f, BatchSize = 32, Epochs = 1 });
        var epoch = Assert.Single(history.Epochs);
        _output.WriteLine($"mlp: test accuracy {epoch.TestAccuracy:F4}, {epoch.TrainSeconds:F2} s");
        Assert.True(epoch.TestAccuracy >= 0.75, $"test accuracy {epoch.TestAccuracy:F4} after one epoch");
        Assert.True(history.BatchLosses[^1] < history.BatchLosses[0], "the loss should fall");
    }

    [Fact]
    public void MnistNet_trained_briefly_clearly_beats_chance()
    {
        var history = Train(new MnistNet(Device.Cpu, seed: 1), Recipe.CourseSgd with { Optimizer = OptimizerKind.Adam, LearningRate = 2e-3f, Epochs = 1 });
        var epoch = Assert.Single(history.Epochs);
        _output.WriteLine($"mnist-net: test accuracy {epoch.TestAccuracy:F4}, {epoch.TrainSeconds:F2} s");
        Assert.True(epoch.TestAccuracy >= 0.55, $"test accuracy {epoch.TestAccuracy:F4} after one epoch on 5,000 images (chance is 0.10)");
    }
}
