// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

/**
 * @title Golem Clay deposit: requestors' deposits, cumulative cheques, arbitrated promissory notes
 * @notice A requestor deposits tokens, then pays providers (or their payees) with
 * EIP-712 cheques that anyone may cash, and signs a promissory note for each
 * assignment that an arbiter authorized by the owner may draw when the
 * requestor does not pay (in the spirit of Golem's GNTDeposit and Swarm's
 * chequebook). The EIP-712 domain holds the chain ID, this contract and a
 * per-deployment salt: signatures made for a lost local chain never count on
 * a redeployed one, even at the same address.
 *
 * Every cheque and note names the beneficiary (who is paid) and the provider
 * (whose work it pays for: the same address for a provider paid itself, or
 * one of the many tabs a site owner's widget runs). Each (requestor,
 * beneficiary, provider) is one account with its own counters, so providers
 * that share a beneficiary never share a counter, and a cheque made for one
 * provider's work never moves another's. A caller fee cuts the beneficiary's
 * payout, so the beneficiary signs for it (not the provider, which may be a
 * visitor's tab working for a site owner).
 *
 * Netting rule, per account: the contract keeps the
 * amount paid out P, the settled sequence number Q and the highest drawn
 * note's sequence number D. The requestor numbers its assignments to each
 * account 1, 2, 3… A cheque (cumulative C, seq S) says "I owe you C in
 * all for assignments 1..S": C is the sum of their prices, a drawn note's
 * assignment counted once like any other at its note's amount. Cashing it
 * pays C − P (refused unless C > P: replayed or lower) and needs S ≥ D (a
 * cheque that does not cover every drawn note would be netted against a
 * payment it does not include, so the beneficiary would lose the difference:
 * refused, the beneficiary waits for a later cheque or has the notes drawn);
 * then P = C, Q = max(Q, S). A note (subtask, seq s, amount a) may be drawn
 * by an arbiter only if s > Q (not settled by a cashed cheque) and no note of
 * that account with seq s was drawn before; it pays a, P += a, D = max(D, s),
 * and counts against the arbiter's daily cap. So a drawn note is an early
 * payment of its assignment, which the next cheque nets out: P never exceeds
 * the prices of the distinct assignments paid, and no assignment of an
 * account is paid twice, whichever way and in whichever order (one subtask
 * given to several providers, k > 1 or a reassignment, is several assignments). Payments come from the requestor's
 * deposit, and are refused when it can't cover them (InsufficientDeposit).
 * Cheques and notes are honoured while a deposit is unlocking, until it is
 * withdrawn: the withdrawal delay is longer than any dispute window.
 */
contract ClayDeposit is Ownable, IERC5267 {
    using SafeERC20 for IERC20;

    /// A requestor's promise: "I owe `beneficiary` `cumulative` in all for `provider`'s assignments 1..`seq`".
    struct Cheque { address requestor; address beneficiary; address provider; uint256 cumulative; uint64 seq; }
    /// A cheque to cash, and the fee the caller keeps (then the cheque's beneficiary, whose payout it cuts, signs a Cashout naming it).
    struct Cashout { Cheque cheque; bytes signature; uint256 callerFee; bytes beneficiarySignature; }
    /// Signed by the requestor with each assignment; an arbiter may draw it.
    struct PromissoryNote { address requestor; address beneficiary; address provider; bytes32 subtask; uint64 seq; uint256 amount; }

    struct Deposit { uint128 amount; uint64 unlockAt; }
    struct Account { uint128 paidOut; uint64 settledSeq; uint64 drawnSeq; }
    struct Arbiter { uint128 dailyCap; uint128 drawnToday; uint64 day; }

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)");
    bytes32 public constant CHEQUE_TYPEHASH =
        keccak256("Cheque(address requestor,address beneficiary,address provider,uint256 cumulative,uint64 seq)");
    bytes32 public constant CASHOUT_TYPEHASH =
        keccak256("Cashout(address requestor,address beneficiary,address provider,uint256 cumulative,uint256 callerFee)");
    bytes32 public constant NOTE_TYPEHASH =
        keccak256("PromissoryNote(address requestor,address beneficiary,address provider,bytes32 subtask,uint64 seq,uint256 amount)");
    string public constant NAME = "Golem Clay Deposit";
    string public constant VERSION = "2";

    IERC20 public immutable token;
    /// Seconds from unlock() to the earliest withdraw().
    uint64 public immutable withdrawDelay;
    /// The most a requestor's deposit may hold.
    uint128 public immutable maxDeposit;
    bytes32 public immutable salt;
    uint256 private immutable cachedChainId;
    bytes32 private immutable cachedDomainSeparator;

    mapping(address requestor => Deposit) public deposits;
    mapping(address requestor => mapping(address beneficiary => mapping(address provider => Account))) public accounts;
    mapping(address arbiter => Arbiter) public arbiters;
    /// keccak256(abi.encode(requestor, beneficiary, provider, seq)) of each drawn note.
    mapping(bytes32 => bool) public noteDrawn;

    event Deposited(address indexed requestor, address indexed from, uint256 amount, uint256 balance);
    event Unlocking(address indexed requestor, uint256 unlockAt);
    event Locked(address indexed requestor);
    event Withdrawn(address indexed requestor, address to, uint256 amount);
    event ChequeCashed(address indexed requestor, address indexed beneficiary, address indexed provider, uint256 cumulative, uint64 seq, uint256 payout, uint256 callerFee);
    event NoteDrawn(address indexed requestor, address indexed beneficiary, address indexed arbiter, address provider, bytes32 subtask, uint64 seq, uint256 amount);
    event ArbiterSet(address indexed arbiter, uint256 dailyCap);

    error ZeroAmount();
    error DepositTooLarge(uint256 balance, uint256 maxDeposit);
    error AlreadyUnlocking(uint256 unlockAt);
    error NotUnlocking();
    error WithdrawTooEarly(uint256 unlockAt);
    error InvalidSignature();
    error ChequeNotHigher(uint256 cumulative, uint256 paidOut);
    error ChequeBehindNote(uint64 seq, uint64 drawnSeq);
    error FeeExceedsPayout(uint256 callerFee, uint256 payout);
    error InsufficientDeposit(uint256 available, uint256 needed);
    error NotArbiter(address caller);
    error NoteSettled(uint64 seq, uint64 settledSeq);
    error NoteAlreadyDrawn(uint64 seq);
    error DailyCapExceeded(uint256 remaining);

    constructor(IERC20 token_, uint64 withdrawDelay_, uint128 maxDeposit_, bytes32 salt_, address owner_) Ownable(owner_) {
        token = token_;
        withdrawDelay = withdrawDelay_;
        maxDeposit = maxDeposit_;
        salt = salt_;
        cachedChainId = block.chainid;
        cachedDomainSeparator = _buildDomainSeparator();
    }

    // --- deposits -------------------------------------------------------------

    /// @notice Adds `amount` (approved beforehand) to the caller's deposit, and locks it again if it was unlocking.
    function deposit(uint256 amount) external {
        _deposit(msg.sender, amount);
        if (deposits[msg.sender].unlockAt != 0) _lock(msg.sender);
    }

    /// @notice Adds the caller's `amount` to `requestor`'s deposit (a faucet's top-up). Does not re-lock:
    /// only the requestor may stop its own withdrawal.
    function depositFor(address requestor, uint256 amount) external {
        _deposit(requestor, amount);
    }

    /// @notice Starts the withdrawal delay; cheques and notes are still honoured until withdraw().
    function unlock() external {
        Deposit storage d = deposits[msg.sender];
        if (d.unlockAt != 0) revert AlreadyUnlocking(d.unlockAt);
        d.unlockAt = uint64(block.timestamp) + withdrawDelay;
        emit Unlocking(msg.sender, d.unlockAt);
    }

    /// @notice Cancels an unlock.
    function lock() external {
        if (deposits[msg.sender].unlockAt == 0) revert NotUnlocking();
        _lock(msg.sender);
    }

    /// @notice Sends the whole deposit to `to`, once the delay since unlock() has passed.
    function withdraw(address to) external {
        Deposit memory d = deposits[msg.sender];
        if (d.unlockAt == 0) revert NotUnlocking();
        if (block.timestamp < d.unlockAt) revert WithdrawTooEarly(d.unlockAt);
        delete deposits[msg.sender];
        token.safeTransfer(to, d.amount);
        emit Withdrawn(msg.sender, to, d.amount);
    }

    // --- cheques --------------------------------------------------------------

    /// @notice Pays the cheque's beneficiary what it adds to the amount already paid out; anyone may call.
    function cashCheque(Cheque calldata cheque, bytes calldata signature) external {
        _cash(cheque, signature, 0);
    }

    /// @notice Cashes several cheques at once, all or none; each fee (authorized by the cheque's beneficiary) goes to the caller.
    function cashCheques(Cashout[] calldata cashouts) external {
        uint256 fees;
        for (uint256 i; i < cashouts.length; ++i) {
            Cashout calldata c = cashouts[i];
            if (c.callerFee != 0) {
                bytes32 structHash = keccak256(abi.encode(
                    CASHOUT_TYPEHASH, c.cheque.requestor, c.cheque.beneficiary, c.cheque.provider, c.cheque.cumulative, c.callerFee));
                // the beneficiary's word: a provider working for a payee must not give the payee's tokens away
                _verify(structHash, c.beneficiarySignature, c.cheque.beneficiary);
            }
            fees += _cash(c.cheque, c.signature, c.callerFee);
        }
        if (fees != 0) token.safeTransfer(msg.sender, fees);
    }

    // --- promissory notes -------------------------------------------------------

    /// @notice The owner authorizes `arbiter` to draw notes up to `dailyCap` a day (0: no longer an arbiter).
    function setArbiter(address arbiter, uint128 dailyCap) external onlyOwner {
        arbiters[arbiter].dailyCap = dailyCap;
        emit ArbiterSet(arbiter, dailyCap);
    }

    /// @notice An arbiter's decision that the note's assignment is owed and unpaid: pays its amount from the deposit.
    function drawNote(PromissoryNote calldata note, bytes calldata signature) external {
        Arbiter storage arbiter = arbiters[msg.sender];
        if (arbiter.dailyCap == 0) revert NotArbiter(msg.sender);
        if (note.amount == 0) revert ZeroAmount();
        _verify(keccak256(abi.encode(
            NOTE_TYPEHASH, note.requestor, note.beneficiary, note.provider, note.subtask, note.seq, note.amount)), signature, note.requestor);
        Account storage account = accounts[note.requestor][note.beneficiary][note.provider];
        if (note.seq <= account.settledSeq) revert NoteSettled(note.seq, account.settledSeq);
        bytes32 key = keccak256(abi.encode(note.requestor, note.beneficiary, note.provider, note.seq));
        if (noteDrawn[key]) revert NoteAlreadyDrawn(note.seq);
        noteDrawn[key] = true;

        uint64 today = uint64(block.timestamp / 1 days);
        if (arbiter.day != today) (arbiter.day, arbiter.drawnToday) = (today, 0);
        uint256 drawn = arbiter.drawnToday + note.amount;
        if (drawn > arbiter.dailyCap) {
            revert DailyCapExceeded(arbiter.dailyCap > arbiter.drawnToday ? arbiter.dailyCap - arbiter.drawnToday : 0);
        }
        arbiter.drawnToday = uint128(drawn);

        _take(note.requestor, note.amount);
        account.paidOut = SafeCast.toUint128(account.paidOut + note.amount);
        if (note.seq > account.drawnSeq) account.drawnSeq = note.seq;
        token.safeTransfer(note.beneficiary, note.amount);
        emit NoteDrawn(note.requestor, note.beneficiary, msg.sender, note.provider, note.subtask, note.seq, note.amount);
    }

    // --- EIP-712 ----------------------------------------------------------------

    function domainSeparator() public view returns (bytes32) {
        return block.chainid == cachedChainId ? cachedDomainSeparator : _buildDomainSeparator();
    }

    /// @notice ERC-5267: the domain clients sign for (fields 0x1f: name, version, chainId, verifyingContract, salt).
    function eip712Domain() external view returns (
        bytes1, string memory, string memory, uint256, address, bytes32, uint256[] memory
    ) {
        return (hex"1f", NAME, VERSION, block.chainid, address(this), salt, new uint256[](0));
    }

    // --- internals ----------------------------------------------------------------

    function _deposit(address requestor, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        Deposit storage d = deposits[requestor];
        uint256 balance = d.amount + amount;
        if (balance > maxDeposit) revert DepositTooLarge(balance, maxDeposit);
        d.amount = uint128(balance);
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(requestor, msg.sender, amount, balance);
    }

    function _lock(address requestor) private {
        deposits[requestor].unlockAt = 0;
        emit Locked(requestor);
    }

    /// Pays a verified cheque; returns the caller's fee, which the caller sends.
    function _cash(Cheque calldata cheque, bytes calldata signature, uint256 callerFee) private returns (uint256) {
        _verify(keccak256(abi.encode(
            CHEQUE_TYPEHASH, cheque.requestor, cheque.beneficiary, cheque.provider, cheque.cumulative, cheque.seq)), signature, cheque.requestor);
        Account storage account = accounts[cheque.requestor][cheque.beneficiary][cheque.provider];
        uint256 paidOut = account.paidOut;
        if (cheque.cumulative <= paidOut) revert ChequeNotHigher(cheque.cumulative, paidOut);
        if (cheque.seq < account.drawnSeq) revert ChequeBehindNote(cheque.seq, account.drawnSeq);
        uint256 payout = cheque.cumulative - paidOut;
        if (callerFee > payout) revert FeeExceedsPayout(callerFee, payout);
        _take(cheque.requestor, payout);
        account.paidOut = SafeCast.toUint128(cheque.cumulative);
        if (cheque.seq > account.settledSeq) account.settledSeq = cheque.seq;
        if (payout > callerFee) token.safeTransfer(cheque.beneficiary, payout - callerFee);
        emit ChequeCashed(cheque.requestor, cheque.beneficiary, cheque.provider, cheque.cumulative, cheque.seq, payout, callerFee);
        return callerFee;
    }

    function _take(address requestor, uint256 amount) private {
        Deposit storage d = deposits[requestor];
        if (d.amount < amount) revert InsufficientDeposit(d.amount, amount);
        d.amount -= uint128(amount);
    }

    function _verify(bytes32 structHash, bytes calldata signature, address signer) private view {
        bytes32 digest = MessageHashUtils.toTypedDataHash(domainSeparator(), structHash);
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || recovered != signer || signer == address(0)) revert InvalidSignature();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(
            DOMAIN_TYPEHASH, keccak256(bytes(NAME)), keccak256(bytes(VERSION)), block.chainid, address(this), salt));
    }
}
