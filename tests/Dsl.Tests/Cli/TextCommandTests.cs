using Specs.Cli;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.Cli;

/// <summary>
/// The text commands' argument errors: <c>sample</c> and <c>attention</c> without a checkpoint, its vocabulary, or with
/// bad values, and options of one task given to another; each one line and exit code 2, before anything loads.
/// </summary>
public sealed class TextCommandTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dsl-text-cli-" + Guid.NewGuid().ToString("N"));

    public TextCommandTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static void AssertUsageError(string message, params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(App.UsageError, code);
        Assert.Equal("", output);
        Assert.StartsWith($"error: {message}", error, StringComparison.Ordinal);
    }

    /// <summary>A run folder with a (dummy) checkpoint and, unless told otherwise, its vocabulary.</summary>
    private string Checkpoint(bool vocabulary = true)
    {
        string path = Path.Combine(_folder, "model.safetensors");
        File.WriteAllText(path, "not read: validation fails first");
        if (vocabulary)
        {
            File.WriteAllText(Path.Combine(_folder, "vocab.json"), "{}");
        }
        return path;
    }

    [Fact]
    public void Sample_without_its_checkpoint_says_where_train_writes_one()
    {
        string missing = Path.Combine(_folder, "none.safetensors");
        AssertUsageError($"{missing}: checkpoint not found (train writes runs/<network>-<time>/model.safetensors).", "sample", missing);
    }

    [Fact]
    public void Sample_and_attention_without_the_vocabulary_beside_the_checkpoint_name_the_missing_file()
    {
        string checkpoint = Checkpoint(vocabulary: false);
        string expected = $"{Path.Combine(_folder, "vocab.json")}: not found; the checkpoint needs the vocabulary its run wrote beside it.";
        AssertUsageError(expected, "sample", checkpoint);
        AssertUsageError(expected, "attention", checkpoint);
    }

    [Theory]
    [InlineData("--temperature must be a positive number, got 0.", "--temperature", "0")]
    [InlineData("--temperature must be a positive number, got -1.", "--temperature", "-1")]
    [InlineData("--length must be a positive integer, got 0.", "--length", "0")]
    [InlineData("--network mlp is not a language model (it trains on Fashion-MNIST images); sample needs one such as char-lstm.", "--network", "mlp")]
    [InlineData("unknown network 'gpt' (known: ", "--network", "gpt")]
    public void Sample_refuses_bad_values(string message, params string[] options)
        => AssertUsageError(message, ["sample", Checkpoint(), .. options]);

    [Theory]
    [InlineData("--count must be a positive integer, got 0.", "--count", "0")]
    [InlineData("--network mnist-net has no attention pooling to show; attention needs one such as bilstm-attention.", "--network", "mnist-net")]
    public void Attention_refuses_bad_values(string message, params string[] options)
        => AssertUsageError(message, ["attention", Checkpoint(), .. options]);

    [Theory]
    [InlineData("--windows applies to language models (char-lstm), not to image networks.", "train", "mlp", "--windows", "10")]
    [InlineData("--show-attention applies to bilstm-attention, not to image networks.", "train", "mlp", "--show-attention")]
    [InlineData("--clip must be a positive number, got -1.", "train", "mlp", "--clip", "-1")]
    [InlineData("--windows must be a positive integer, got 0.", "train", "mlp", "--windows", "0")]
    [InlineData("--weight-decay must be a number >= 0, got -0.5.", "train", "mlp", "--weight-decay", "-0.5")]
    public void Train_refuses_options_of_another_task(string message, params string[] args)
        => AssertUsageError(message, args);

    [Fact]
    public void Clip_overrides_the_recipe()
    {
        var settings = new TrainSettings { Network = "mlp", Clip = 2.5f };
        Assert.True(settings.Validate().Successful);
        Assert.Equal(2.5f, settings.ApplyTo(NetworkCatalog.Get("mlp").DefaultRecipe).ClipGradNorm);
        Assert.Contains("gradient norm clipped to 2.5", settings.ApplyTo(NetworkCatalog.Get("mlp").DefaultRecipe).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Weight_decay_makes_adam_decoupled_and_sgd_an_l2_term()
    {
        var adam = new TrainSettings { Network = "kim-cnn", WeightDecay = 1f }.ApplyTo(NetworkCatalog.Get("kim-cnn").DefaultRecipe);
        Assert.Equal(1f, adam.WeightDecay);
        Assert.Contains("weight decay 1", adam.ToString(), StringComparison.Ordinal);
        // One Adam step on a zero gradient with decoupled decay scales a parameter by (1 - lr * decay), as AdamW does.
        var net = NetworkCatalog.Get("mlp").Create(Device.Cpu, 0);
        var p = net.Parameters[0];
        float before = p.Value.ToArray()[0];
        net.ZeroGrad();
        var optimizer = (adam with { LearningRate = 0.1f }).CreateOptimizer(net);
        optimizer.Step();
        Assert.Equal(before * (1f - 0.1f * 1f), p.Value.ToArray()[0], 6);
        var sgd = new TrainSettings { Network = "mlp", WeightDecay = 0.5f }.ApplyTo(NetworkCatalog.Get("mlp").DefaultRecipe);
        Assert.Equal(0.5f, sgd.WeightDecay);
    }
}
