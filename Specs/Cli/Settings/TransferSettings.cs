using System.ComponentModel;
using Dsl;
using Spectre.Console;
using Spectre.Console.Cli;
using Specs.Transfer;

namespace Specs.Cli;

/// <summary><c>transfer</c>: the transfer-learning experiment's settings (defaults: the run the README reports).</summary>
public sealed class TransferSettings : CommandSettings
{
    [CommandOption("--pretrain-epochs <N>")]
    [Description("epochs on classes 0-4 (every training image of them)")]
    [DefaultValue(3)]
    public int PretrainEpochs { get; set; } = 3;

    [CommandOption("--epochs <N>")]
    [Description("epochs on each subset of classes 5-9, the same for the three methods")]
    [DefaultValue(20)]
    public int Epochs { get; set; } = 20;

    [CommandOption("--sizes <LIST>")]
    [Description("labelled images per class of classes 5-9, comma-separated")]
    [DefaultValue("10,50,500")]
    public string Sizes { get; set; } = "10,50,500";

    [CommandOption("--batch-size <N>")]
    [Description("samples per step")]
    [DefaultValue(32)]
    public int BatchSize { get; set; } = 32;

    [CommandOption("--lr <X>")]
    [Description("Adam's learning rate, for pretraining and the three methods")]
    [DefaultValue(1e-3f)]
    public float LearningRate { get; set; } = 1e-3f;

    [CommandOption("--seed <N>")]
    [Description("seeds the networks, the subsets and the shuffling")]
    [DefaultValue(0)]
    public int Seed { get; set; }

    [CommandOption("--data <DIR>")]
    [Description("a folder with the Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist, else the bundled slice)")]
    public string? Data { get; set; }

    [CommandOption("--device <DEVICE>")]
    [Description("cpu, cpu:THREADS, gpu or gpu:cpu (default: cpu)")]
    public string? Device { get; set; }

    [CommandOption("--limit-pretrain <N>")]
    [Description("pretrain on the first N images of classes 0-4 only")]
    public int? LimitPretrain { get; set; }

    [CommandOption("--limit-test <N>")]
    [Description("evaluate on the first N test images of each task only")]
    public int? LimitTest { get; set; }

    /// <summary>The device, created by <see cref="Validate"/>.</summary>
    public Device ResolvedDevice { get; private set; } = null!;

    public TransferOptions Options => new(PretrainEpochs, Epochs, Check.ParsePositiveList(Sizes)!, BatchSize, LearningRate, Seed, LimitPretrain, LimitTest);

    public override ValidationResult Validate() => Check.First(
        Check.Positive("--pretrain-epochs", PretrainEpochs),
        Check.Positive("--epochs", Epochs),
        Check.PositiveList("--sizes", Sizes),
        Check.Positive("--batch-size", BatchSize),
        LearningRate > 0f && float.IsFinite(LearningRate) ? null : $"--lr must be a positive number, got {LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}.",
        Check.Positive("--limit-pretrain", LimitPretrain),
        Check.Positive("--limit-test", LimitTest),
        ResolveDevice());

    private string? ResolveDevice()
    {
        try
        {
            ResolvedDevice = Device is null ? Dsl.Device.Default : Dsl.Device.Parse(Device);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or DeviceSelectionException)
        {
            return $"--device: {e.Message}";
        }
    }
}
