using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;
using Dsl;
using Dsl.Data;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// The command-line entry point, on Spectre.Console.Cli: every command is one class (a <c>Command&lt;TSettings&gt;</c>
/// with typed settings whose <c>Validate()</c> reports bad values) and one line in <see cref="Register"/>. A mistake in
/// how the program was called is one line on the error writer and exit code <see cref="UsageError"/>; a bug keeps its
/// stack trace.
/// </summary>
public static partial class App
{
    /// <summary>The exit code of a usage mistake: unknown command, option or network, or a bad value.</summary>
    public const int UsageError = 2;

    /// <summary>The program's name in help and error messages.</summary>
    public const string Name = "specs";

    /// <summary>Runs the command in <paramref name="args"/>; returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0)
        {
            // Spectre shows the help and succeeds; a bare call is more likely a mistake in a script.
            Create(output, error, args).Run(["--help"]);
            return UsageError;
        }
        return Create(output, error, args).Run(args);
    }

    /// <summary>The configured application, writing normal output to <paramref name="output"/> and errors to <paramref name="error"/>.</summary>
    public static CommandApp Create(TextWriter output, TextWriter error, IReadOnlyList<string> args)
    {
        var cli = new CliOutput(output);
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName(Name);
            config.SetApplicationCulture(CultureInfo.InvariantCulture);
            config.ConfigureConsole(cli.Console);
            config.UseStrictParsing();
            config.Settings.Registrar.RegisterInstance(cli);
            config.SetExceptionHandler((e, _) => Report(e, args, error));
            Register(config);
        });
        return app;
    }

    /// <summary>
    /// Every command. Adding one is a class in <c>Commands/</c> (a <c>Command&lt;TSettings&gt;</c> taking
    /// <see cref="CliOutput"/> in its constructor, its settings in <c>Settings/</c> checked with <see cref="Check"/>) and
    /// one line here. Descriptions are Spectre markup: write <c>[[</c> and <c>]]</c> for brackets.
    /// </summary>
    private static void Register(IConfigurator config)
    {
        config.AddCommand<ListCommand>("list").WithDescription("the networks and their default recipes");
        config.AddCommand<SummaryCommand>("summary").WithDescription("a network's layers, shapes and parameter counts")
            .WithExample("summary", "resnet20");
        config.AddCommand<TrainCommand>("train").WithDescription("train a network on its data (Fashion-MNIST, fortunes topics or characters) and report its figures")
            .WithExample("train", "mnist-net").WithExample("train", "mlp", "--epochs", "1", "--out", "runs/mlp")
            .WithExample("train", "kim-cnn").WithExample("train", "bilstm-attention", "--show-attention").WithExample("train", "char-lstm", "--windows", "50");
        config.AddCommand<SampleCommand>("sample").WithDescription("text sampled from a trained character language model")
            .WithExample("sample", "runs/char-lstm/model.safetensors", "--temperature", "0.8", "--length", "300", "--prime", "The");
        config.AddCommand<AttentionCommand>("attention").WithDescription("a trained attention classifier's weights over the words of a few test quotes")
            .WithExample("attention", "runs/bilstm-attention/model.safetensors");
        config.AddCommand<AttentionMapCommand>("attention-map").WithDescription("one input's attention weights as a heat map PNG, one panel per head")
            .WithExample("attention-map", "seq2seq", "--checkpoint", "runs/seq2seq/model.safetensors", "--index", "3", "--out", "attention.png");
        config.AddCommand<VisualizeCommand>("visualize").WithDescription("a trained image network's filters, feature maps, occlusion, top images and saliency as PNGs")
            .WithExample("visualize", "mnist-net", "--checkpoint", "runs/mnist-net/model.safetensors", "--layer", "conv2", "--image", "3", "--out", "runs/visualize");
        config.AddCommand<ExportCommand>("export").WithDescription("write a trained network as an ONNX model (opset 17, dynamic batch)")
            .WithExample("export", "mnist-net", "--checkpoint", "runs/mnist-net/model.safetensors", "--onnx", "mnist-net.onnx");
        config.AddCommand<TransferCommand>("transfer").WithDescription("transfer learning: pretrain on Fashion-MNIST classes 0-4, learn 5-9 from few images three ways")
            .WithExample("transfer", "--sizes", "10,50,500", "--epochs", "20");
        config.AddCommand<GpuCheckCommand>("gpu-check").WithDescription("every GPU kernel against the CPU, then training steps and GEMM beside PyTorch on the same card")
            .WithExample("gpu-check", "--device", "gpu:cpu", "--quick", "--python", "none");
        config.AddBranch("bench", bench =>
        {
            bench.SetDescription("throughput beside PyTorch and OpenBLAS on the same data and thread counts");
            bench.AddCommand<BenchTrainCommand>("train").WithDescription("training and evaluation samples/s of a network beside PyTorch")
                .WithExample("bench", "train", "mnist-net", "--threads", "1,2");
            bench.AddCommand<BenchDataCommand>("data").WithDescription("the data pipeline's samples/s with augmentation against the network's training step")
                .WithExample("bench", "data", "mnist-net");
            bench.AddCommand<BenchMemoryCommand>("memory").WithDescription("planned activation memory per sample and the bytes a first training step allocates")
                .WithExample("bench", "memory", "resnet20", "--batch", "128");
            bench.AddCommand<BenchOnnxCommand>("onnx").WithDescription("inference of the exported Specs in ONNX Runtime beside our Forward, batch 1 and 64")
                .WithExample("bench", "onnx", "mnist-net", "resnet20", "--threads", "2");
            bench.AddCommand<BenchMlpCommand>("mlp").WithDescription("the same as 'bench train mlp'");
            bench.AddCommand<BenchAttentionCommand>("attention").WithDescription("fused attention against the unfused reference at T = 128, 512, 2048, and one attention layer's pieces")
                .WithExample("bench", "attention", "--threads", "1,2");
            bench.AddCommand<BenchConvCommand>("conv").WithDescription("each CPU convolution algorithm on ResNet-20's and DenseNet's layers, forward and backward, and the pick").WithExample("bench", "conv", "--threads", "1,2");
            bench.AddCommand<BenchTsneCommand>("tsne").WithDescription("t-SNE of a network's penultimate features beside scikit-learn's: seconds, KL and 5-NN accuracy; writes tsne.png")
                .WithExample("bench", "tsne", "mnist-net", "--samples", "2000", "--threads", "1,2");
            bench.AddCommand<BenchGemmCommand>("gemm").WithDescription("matrix multiply GFLOP/s beside OpenBLAS at 1024^3 and the layers' shapes")
                .WithExample("bench", "gemm", "--threads", "1,2");
        });
    }

    /// <summary>Usage mistakes become one line and <see cref="UsageError"/>; anything else is a bug and propagates.</summary>
    private static int Report(Exception e, IReadOnlyList<string> args, TextWriter error)
    {
        switch (e)
        {
            case CommandAppException:
                // Parsing and validation: unknown command or option, missing argument, a value Validate() rejected.
                error.WriteLine($"error: {ConversionError(e, args) ?? OneLine(e.Message)}");
                error.WriteLine($"       see '{Name} --help' or '{Name} <command> --help'.");
                return UsageError;
            case CommandFailedException failed:
                error.WriteLine($"error: {OneLine(failed.Message)}");
                return failed.ExitCode;
            case UsageException or IdxFormatException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or DeviceSelectionException:
                error.WriteLine($"error: {OneLine(e.Message)}");
                return UsageError;
            default:
                ExceptionDispatchInfo.Throw(e);
                return 1;
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    /// <summary>
    /// Spectre reports a value its type converter rejects as <c>Failed to convert 'abc' to Nullable`1.</c>, naming
    /// neither the option nor the type: this says <c>--epochs must be an integer, got 'abc'.</c> instead, finding the
    /// option in the arguments. Null when the exception is not such a failure (its own message is shown then).
    /// </summary>
    private static string? ConversionError(Exception e, IReadOnlyList<string> args)
    {
        var match = ConversionFailure().Match(e.Message);
        if (e is not CommandRuntimeException || e.InnerException is null || !match.Success)
        {
            return null;
        }
        string value = match.Groups[1].Value;
        string inner = e.InnerException.Message;
        string what = inner.Contains("Int32", StringComparison.Ordinal) || inner.Contains("Int64", StringComparison.Ordinal) ? "an integer"
            : inner.Contains("Single", StringComparison.Ordinal) || inner.Contains("Double", StringComparison.Ordinal) ? "a number"
            : "a valid value";
        string? option = null;
        for (int i = 0; i < args.Count && option is null; i++)
        {
            if (args[i] == value && i > 0 && args[i - 1].StartsWith('-'))
            {
                option = args[i - 1];
            }
            else if (args[i].StartsWith('-') && args[i].EndsWith("=" + value, StringComparison.Ordinal))
            {
                option = args[i][..^(value.Length + 1)];
            }
        }
        return $"{option ?? "a value"} must be {what}, got '{value}'.";
    }

    [GeneratedRegex("^Failed to convert '(.*)' to ")]
    private static partial Regex ConversionFailure();
}
