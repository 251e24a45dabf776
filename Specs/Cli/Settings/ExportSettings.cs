using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary><c>export &lt;network&gt; --checkpoint FILE --onnx OUT</c>: the trained weights to load and the model file to write.</summary>
public sealed class ExportSettings : NetworkSettings
{
    [CommandOption("--checkpoint <FILE>")]
    [Description("the trained weights (a safetensors file 'train' wrote, PyTorch's names)")]
    public string? Checkpoint { get; set; }

    [CommandOption("--onnx <OUT>")]
    [Description("the ONNX model to write (opset 17, dynamic batch N); replaced atomically")]
    public string? Onnx { get; set; }

    public override ValidationResult Validate() => Check.First(base.Validate(),
        string.IsNullOrEmpty(Checkpoint) ? "--checkpoint is required: the weights to export." : null,
        Checkpoint is not null && !File.Exists(Checkpoint) ? $"--checkpoint: {Path.GetFullPath(Checkpoint)} not found." : null,
        string.IsNullOrEmpty(Onnx) ? "--onnx is required: the model file to write." : null);
}
