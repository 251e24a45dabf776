namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    public override void MaxPool2d(Tensor x, Tensor y, Tensor argmax, in Pool2dGeometry g) => throw new NotImplementedException();
    public override void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, in Pool2dGeometry g, bool accumulate) => throw new NotImplementedException();
    public override void AvgPool2d(Tensor x, Tensor y, in Pool2dGeometry g, bool countIncludePad) => throw new NotImplementedException();
    public override void AvgPool2dBackward(Tensor dy, Tensor dx, in Pool2dGeometry g, bool countIncludePad, bool accumulate) => throw new NotImplementedException();
    public override void AdaptiveAvgPool2d(Tensor x, Tensor y, int batch, int channels, int height, int width, int outHeight, int outWidth) => throw new NotImplementedException();
    public override void AdaptiveAvgPool2dBackward(Tensor dy, Tensor dx, int batch, int channels, int height, int width, int outHeight, int outWidth, bool accumulate) => throw new NotImplementedException();
}
