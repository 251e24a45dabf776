using System.Globalization;
using Dsl;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>export &lt;network&gt; --checkpoint FILE --onnx OUT</c>: loads the checkpoint into the network and writes it as an
/// ONNX model (<see cref="Onnx.Export(Module, string)"/>). A layer without an ONNX mapping, or an output path that cannot be
/// written, is one error line and exit code <see cref="Failed"/>; nothing is written then.
/// </summary>
public sealed class ExportCommand(CliOutput output) : Command<ExportSettings>
{
    /// <summary>The exit code when the network cannot be exported or the file cannot be written.</summary>
    public const int Failed = 1;

    public override int Execute(CommandContext context, ExportSettings settings, CancellationToken cancellationToken)
    {
        var info = settings.Info;
        var net = info.Create(Device.Cpu, 0);
        Checkpoint.Load(net, settings.Checkpoint!);
        net.Eval();
        try
        {
            Onnx.Export(net, settings.Onnx!);
        }
        catch (OnnxExportException e)
        {
            throw new CommandFailedException(e.Message, Failed);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException))
        {
            throw new CommandFailedException(e.Message, Failed);
        }
        long bytes = new FileInfo(settings.Onnx!).Length;
        output.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {settings.Onnx} ({bytes:N0} bytes): {info.Name} from {settings.Checkpoint}, opset {Onnx.Opset}, {net.ParameterCount:N0} parameters, "
            + $"input 'input' [N,{string.Join(",", info.InputShape)}], output 'output'"));
        return 0;
    }
}
