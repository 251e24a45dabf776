namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    public override void Conv2d(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g) => throw new NotImplementedException();
    public override void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx) => throw new NotImplementedException();
}
