namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    public override void BatchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps) => throw new NotImplementedException();
    public override void BatchNormBackward(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx) => throw new NotImplementedException();
}
