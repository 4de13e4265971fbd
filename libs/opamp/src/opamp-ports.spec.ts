import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { bindOpampPorts, OpampPorts, OpampPortsModule } from './opamp-ports';
import type { AgentAuthenticator, AgentStateSink, ClientCertificateVerifier } from './ports';

@Injectable()
class Authenticator implements AgentAuthenticator {
  authenticate = jest.fn();
  attach = jest.fn();
  reassignInstanceUid = jest.fn();
}
@Injectable()
class Sink implements AgentStateSink {
  connected = jest.fn();
  report = jest.fn();
  disconnected = jest.fn();
}
@Injectable()
class Verifier implements ClientCertificateVerifier {
  verify = jest.fn();
}

@Module({ imports: [OpampPortsModule], providers: [Authenticator, Sink, bindOpampPorts({ authenticator: Authenticator, stateSink: Sink })] })
class AgentsModule {}
@Module({ imports: [OpampPortsModule], providers: [Verifier, bindOpampPorts({ certificateVerifier: Verifier })] })
class CertificatesModule {}
@Module({ imports: [OpampPortsModule], providers: [Sink, bindOpampPorts({ stateSink: Sink })] })
class SecondSinkModule {}

/** Ports are what the implementing modules bound, through ordinary injection (decision 0200). */
describe('OpampPorts', () => {
  it('holds what several modules bound, each by its own binding provider', async () => {
    const app = await Test.createTestingModule({ imports: [AgentsModule, CertificatesModule] }).compile();
    const ports = app.get(OpampPorts);
    expect(ports.required('authenticator')).toBe(app.select(AgentsModule).get(Authenticator));
    expect(ports.required('stateSink')).toBe(app.select(AgentsModule).get(Sink));
    expect(ports.optional('certificateVerifier')).toBe(app.select(CertificatesModule).get(Verifier));
    expect(ports.optional('connectionSettings')).toBeUndefined();
  });

  it('names a required port nobody bound', async () => {
    const app = await Test.createTestingModule({ imports: [CertificatesModule] }).compile();
    expect(() => app.get(OpampPorts).required('authenticator')).toThrow('OpAMP needs an implementation of the "authenticator" port');
  });

  it('refuses a port bound twice to different implementations', async () => {
    await expect(Test.createTestingModule({ imports: [AgentsModule, SecondSinkModule] }).compile()).rejects.toThrow('The OpAMP port "stateSink" is bound twice');
  });
});
