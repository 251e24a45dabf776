using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The public <see cref="Device"/> methods validate once, in the base class: the same bad call is rejected by the CPU
/// device and by the ILGPU kernels (CPU accelerator) with the same exception type and the same message, except for
/// the device's name inside a tensor's description. Also: an empty batch is accepted by both (PyTorch allows it).
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class DeviceValidationTests(IlgpuCpuAcceleratorFixture fixture)
{
    public static TheoryData<string> BadCalls => new(Calls.Keys.Order(StringComparer.Ordinal));

    private static readonly Dictionary<string, Action<Device>> Calls = new()
    {
        ["add_lengths_differ"] = d => d.Add(Z(d, 3), Z(d, 3), Z(d, 4)),
        ["add_int64_operand"] = d => d.Add(Z(d, 3), Tensor.From(new long[3], d, 3), Z(d, 3)),
        ["add_non_contiguous"] = d => d.Add(Z(d, 2, 3).Transpose(0, 1), Z(d, 3, 2), Z(d, 3, 2)),
        ["gemm_c_too_small"] = d => d.Gemm(false, false, 2, 4, 3, 1f, Z(d, 6), Z(d, 12), 0f, Z(d, 7)),
        ["gemm_negative_size"] = d => d.Gemm(false, false, -1, 4, 3, 1f, Z(d, 6), Z(d, 12), 0f, Z(d, 8)),
        ["bias_not_whole_blocks"] = d => d.AddBias(Z(d, 7), Z(d, 3), 1),
        ["softmax_empty_last_dim"] = d => d.Softmax(Z(d, 3, 0), Z(d, 3, 0), log: false),
        ["dropout_group_zero"] = d => d.Dropout(Z(d, 4), Z(d, 4), Z(d, 4), 0.5f, 1, 0),
        ["dropout_p_above_one"] = d => d.Dropout(Z(d, 4), Z(d, 4), Z(d, 4), 1.5f, 1, 1),
        ["activation_unknown_kind"] = d => d.Activation((ActivationKind)42, 0f, Z(d, 4), Z(d, 4)),
        ["nll_label_count"] = d => d.NllLoss(Z(d, 3, 4), Tensor.From(new long[2], d, 2), Z(d, 2), Z(d, 3, 4)),
        ["mse_lengths_differ"] = d => d.MseLoss(Z(d, 3), Z(d, 4), Z(d, 2), Z(d, 3)),
        ["sgd_momentum_without_buffer"] = d => d.SgdStep(Z(d, 3), Z(d, 3), null, 0.1f, 0.9f, 0f, 0f, false, false),
        ["adam_step_zero"] = d => d.AdamStep(Z(d, 3), Z(d, 3), Z(d, 3), Z(d, 3), 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, 0),
        ["conv_negative_batch"] = d => d.Conv2d(Z(d, 1), Z(d, 1), null, Z(d, 1), new Conv2dGeometry(-1, 1, 3, 3, 1, 1, 1)),
        ["conv_wrong_weight"] = d => d.Conv2d(Z(d, 2, 3, 5, 5), Z(d, 4, 3, 3, 2), null, Z(d, 2, 4, 3, 3), new Conv2dGeometry(2, 3, 5, 5, 4, 3, 3)),
        ["conv_groups_do_not_divide"] = d => d.Conv2d(Z(d, 2, 3, 5, 5), Z(d, 4, 1, 3, 3), null, Z(d, 2, 4, 3, 3), new Conv2dGeometry(2, 3, 5, 5, 4, 3, 3, Groups: 2)),
        ["conv_kernel_larger_than_input"] = d => d.Conv2d(Z(d, 1, 1, 2, 2), Z(d, 1, 1, 3, 3), null, Z(d, 1), new Conv2dGeometry(1, 1, 2, 2, 1, 3, 3)),
        ["pool_padding_above_half_kernel"] = d => d.MaxPool2d(Z(d, 1, 1, 4, 4), Z(d, 1, 1, 4, 4), I(d, 16), new Pool2dGeometry(1, 1, 4, 4, 2, 2, 1, 1, 2, 2)),
        ["pool_argmax_float"] = d => d.MaxPool2d(Z(d, 1, 1, 4, 4), Z(d, 1, 1, 2, 2), Z(d, 4), new Pool2dGeometry(1, 1, 4, 4, 2, 2, 2, 2)),
        ["avgpool_wrong_output"] = d => d.AvgPool2d(Z(d, 1, 1, 4, 4), Z(d, 1, 1, 3, 3), new Pool2dGeometry(1, 1, 4, 4, 2, 2, 2, 2), true),
        ["adaptive_zero_output"] = d => d.AdaptiveAvgPool2d(Z(d, 1, 1, 4, 4), Z(d, 1), 1, 1, 4, 4, 0, 1),
        ["conv_residual_is_y"] = d =>
        {
            var y = Z(d, 2, 4, 3, 3);
            d.Conv2d(Z(d, 2, 3, 5, 5), Z(d, 4, 3, 3, 3), null, y, new Conv2dGeometry(2, 3, 5, 5, 4, 3, 3), relu: true, residual: y);
        },
        ["batchnorm_residual_overlaps_y"] = d =>
        {
            var both = Z(d, 18);
            d.BatchNorm(Z(d, 12), Z(d, 3), Z(d, 3), Z(d, 3), Z(d, 3), Z(d, 3), Z(d, 3), both.Narrow(0, 0, 12), 2, 3, 2, true, 0.1f, 1e-5f, residual: both.Narrow(0, 6, 12));
        },
        ["batchnorm_one_value_per_channel"] = d => d.BatchNorm(Z(d, 3), Z(d, 3), Z(d, 3), Z(d, 3), Z(d, 3), Z(d, 3), Z(d, 3), Z(d, 3), 1, 3, 1, true, 0.1f, 1e-5f),
        ["layernorm_wrong_save_buffer"] = d => d.LayerNorm(Z(d, 2, 5), null, null, Z(d, 3), Z(d, 2), Z(d, 2, 5), 2, 5, 1e-5f),
        ["copy_channels_do_not_fit"] = d => d.CopyChannels(Z(d, 2, 3, 4), 3, 2, Z(d, 2, 5, 4), 5, 0, 2, 2, 4, false),
        ["copy_strided_shape_differs"] = d => d.CopyStrided(Z(d, 2, 3).Transpose(0, 1), Z(d, 2, 3)),
        ["upload_length_differs"] = d => d.Upload(new float[5], Z(d, 4)),
        ["download_non_contiguous"] = d => d.Download(Z(d, 2, 3).Transpose(0, 1), new float[6]),
    };

    [Theory]
    [MemberData(nameof(BadCalls))]
    public void Both_devices_reject_the_same_call_with_the_same_message(string call)
    {
        var cpu = Capture(Device.Cpu, Calls[call]);
        var gpu = Capture(fixture.Device, Calls[call]);
        Assert.Equal(cpu.GetType(), gpu.GetType());
        Assert.Equal(Normalise(cpu.Message, Device.Cpu), Normalise(gpu.Message, fixture.Device));
    }

    [Fact]
    public void Messages_name_the_operation_and_the_operand()
    {
        var e = Capture(Device.Cpu, Calls["conv_wrong_weight"]);
        Assert.StartsWith("Conv2d: weight should be [4,3,3,3] (108 elements) but is Tensor[4,3,3,2]", e.Message);
        e = Capture(Device.Cpu, Calls["add_non_contiguous"]);
        Assert.StartsWith("Add: a Tensor[3,2] Float32", e.Message);
        Assert.EndsWith("is a non-contiguous view (strides (1,3)); call .Contiguous().", e.Message);
    }

    [Fact]
    public void An_empty_batch_is_accepted_by_both_devices()
    {
        foreach (var d in new[] { Device.Cpu, fixture.Device })
        {
            var g = new Conv2dGeometry(0, 2, 5, 5, 3, 3, 3);
            var dw = Tensor.From(Enumerable.Repeat(1f, 54).ToArray(), d, 3, 2, 3, 3);
            d.Conv2d(Z(d, 0, 2, 5, 5), Z(d, 3, 2, 3, 3), Z(d, 3), Z(d, 0, 3, 3, 3), g);
            d.Conv2dBackward(Z(d, 0, 2, 5, 5), Z(d, 3, 2, 3, 3), Z(d, 0, 3, 3, 3), Z(d, 0, 2, 5, 5), dw, Z(d, 3), g, accumulateDx: false);
            Assert.All(dw.ToArray(), v => Assert.Equal(1f, v));
            d.MaxPool2d(Z(d, 0, 2, 4, 4), Z(d, 0, 2, 2, 2), I(d, 0), new Pool2dGeometry(0, 2, 4, 4, 2, 2, 2, 2));
        }
    }

    private static Exception Capture(Device d, Action<Device> call)
    {
        var e = Record.Exception(() => call(d));
        Assert.True(e is ArgumentException or NotSupportedException, $"{d.Name}: expected a rejection, got {e?.GetType().Name ?? "none"}: {e?.Message}");
        return e!;
    }

    private static string Normalise(string message, Device d) => message.Replace(d.Name, "<device>", StringComparison.Ordinal);

    private static Tensor Z(Device d, params int[] shape) => Tensor.Zeros(d, shape);

    private static Tensor I(Device d, params int[] shape) => d.Allocate(DType.Int32, shape);
}
